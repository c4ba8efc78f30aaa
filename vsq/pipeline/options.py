"""What a run is granted from outside its configurations: the command line, the environment, the caller.

A configuration file may ask for things; only these options grant them. pytest's plugin, vsq.run() and
`python -m vsq run` each build one RunOptions and hand it to every configuration's Pipeline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from vsq.cache.store import Cache
from vsq.pipeline.progress import Progress


@dataclass
class RunOptions:
    cache: Cache
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # shared by every configuration of the run
    baseline: Path | None = None  # --baseline: for every configuration, over its own "baseline" key
    accept_baseline: bool = False  # --accept-baseline: this run's figures become the accepted ones
    progress: Progress = field(default_factory=Progress)
    # Handed in by the faces (vsq.api.run_options): every section a run may have, in build order
    # (vsq.sections.all_sections()), and what is done with each results document once written (its history line).
    sections: tuple = ()
    recorders: tuple = ()  # callables taking the written document

    def baseline_for(self, config) -> Path | None:
        """The accepted-baseline file of a configuration: --baseline, else its "baseline" key, else none."""
        return self.baseline or config.baseline
