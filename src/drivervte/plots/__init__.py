"""drivervte.plots."""
