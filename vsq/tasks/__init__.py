"""Tasks: what a model is asked to do (classification, detection) and how its answers are judged."""
