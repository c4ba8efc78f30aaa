"""vsq as a library: the same run as `pytest suites/`, from a notebook or a script.

    import vsq
    run = vsq.run("configuration.json")
    run.verdict, run.top1, run.failures(), run.flipped()   # and in Jupyter the summary renders itself

Same pipeline, same cache, same results.json (written once, with the gate's verdict) and history line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from vsq.pipeline.results import RunResult

# What a configuration given as a dict is called in messages (no file holds it): its folder is the working folder.
DICT_CONFIGURATION = "configuration"

class Result(RunResult):
    """A RunResult that renders itself in Jupyter."""

    def _repr_html_(self) -> str:
        """Jupyter: the summary table and the drop chart, as the HTML report shows them."""
        from vsq.reporting.html import summary_section

        return summary_section({self.name: self.document}, {self.name: self.verdict}, [], details=False)


def run(config: str | os.PathLike | Mapping, *, cache_dir: str | os.PathLike | None = None, use_cache: bool = True,
        baseline: str | os.PathLike | None = None, accept_baseline: bool = False,
        progress: bool | None = None, allow_unsafe_model_code: bool = False,
        imx500_converter: str | os.PathLike | list | None = None, max_image_pixels: int | None = None) -> RunResult:
    """Run one configuration's pipeline: every check, results.json, the history line.

    config: a configuration file, or its keys as a dict (built in a notebook): its relative paths are then relative
    to the working folder, and its name is its "name" key, else "configuration".

    cache_dir: the artifact cache (default: $VSQ_CACHE_DIR, else ~/.cache/vsq); use_cache=False builds
    everything again (--no-cache); baseline / accept_baseline as the command line's --baseline and
    --accept-baseline; progress: bars on standard error (None: when it is a terminal).
    What the caller grants (the command line's --allow-unsafe-model-code, --imx500-converter, --max-image-pixels;
    vsq.configuration.grants): allow_unsafe_model_code lets the model run the code stored in it; imx500_converter
    (default $VSQ_IMX500_CONVERTER) is the converter to run, imxconv-tf or imxconv-pt (a list: one of each);
    max_image_pixels raises the image size limit.
    Raises ConfigError (one line naming the file, the key and the fix) for a configuration that cannot run,
    VsqError when a step of the run fails (the tool's own message).
    """
    from vsq.configuration.grants import Grants
    from vsq.pipeline.job import prepare
    from vsq.pipeline.pipeline import Pipeline

    path, data = (Path.cwd() / DICT_CONFIGURATION, dict(config)) if isinstance(config, Mapping) else (config, None)
    job = prepare(path, Grants.given(imx500_converter=imx500_converter, max_image_pixels=max_image_pixels,
                                     unsafe_model_code_for_any=allow_unsafe_model_code), data)
    options = run_options(cache_dir, use_cache, baseline, accept_baseline, progress)
    if accept_baseline and options.baseline_for(job.config) is None:
        raise ValueError("accept_baseline needs a baseline file: give baseline=PATH or a \"baseline\" key")
    done = Pipeline(job, options).result
    return Result(done.name, done.document, done.checks)


def run_options(cache_dir=None, use_cache: bool = True, baseline=None, accept_baseline: bool = False,
                progress=None):
    """RunOptions as the command line gives them (vsq.run, `python -m vsq run` and the pytest plugin share this):
    every section, and the history line beside each results.json. progress: a Progress, or whether to show bars
    (None: when standard error is a terminal)."""
    from vsq.cache.store import Cache, default_root
    from vsq.pipeline.options import RunOptions
    from vsq.pipeline.progress import Progress
    from vsq.sections import all_sections

    return RunOptions(Cache(Path(cache_dir) if cache_dir else default_root(), enabled=use_cache),
                      baseline=Path(os.path.abspath(baseline)) if baseline else None, accept_baseline=accept_baseline,
                      progress=progress if isinstance(progress, Progress) else Progress(progress),
                      sections=all_sections(), recorders=(append_history_line,))


def append_history_line(document: dict) -> None:
    """The run's line in history.jsonl, beside its results.json (vsq.reporting.history)."""
    from vsq.reporting import history

    history.append(Path(document["results_file"]).parent / history.HISTORY_FILE, history.entry(document))
