"""Governance, SOP 7.2, 7.5 and 6.5: the dip sample, the quarterly figures and their report."""
