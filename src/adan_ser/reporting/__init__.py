"""The report: metrics, paired statistics, forest plot, head choice, tables."""
