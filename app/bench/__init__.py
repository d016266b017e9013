"""``buchumen bench ...``: benchmarks that print figures, one module per subject.

Goals are compared as ratios or bounds within one run, never as timed tests.
"""
