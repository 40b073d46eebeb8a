"""The officer in the case's file: the evidence package, its report, and its check."""
