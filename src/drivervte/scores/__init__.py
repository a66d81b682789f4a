"""drivervte.scores."""
