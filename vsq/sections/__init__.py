"""Optional capabilities of a run (variants, baselines, IMX500, per-layer explanation): each says whether it
applies, builds its part of the results, and keeps its failures to its own checks."""
