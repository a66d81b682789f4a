"""drivervte.report."""
