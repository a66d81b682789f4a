"""drivervte.survival."""
