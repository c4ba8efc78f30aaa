"""What a run tells people, from results documents only: the summary table, HTML and charts, history,
progress lines, and `python -m vsq report` over many runs."""
