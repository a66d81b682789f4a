"""drivervte.meta."""
