"""drivervte.evidence."""
