"""drivervte.effects."""
