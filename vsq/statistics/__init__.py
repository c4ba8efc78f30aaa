"""Accuracy metrics and paired statistics as small pure functions: Top-1, intervals, McNemar, the
per-image record that pairs baselines."""
