"""One configuration's run: every step computed once, lazily, from the cache or built.

Pipeline(job, options) is what pytest's fixtures, vsq.run() and `python -m vsq run` share. The flow:
model facts -> calibration -> recipe builds (the default recipe, the variants) and the float export ->
one evaluation pass over the images for every model -> the core of the document (figures, paired
statistics) -> the sections' parts (variants, IMX500, explanation, baseline) -> every check, once, into
one verdicts map -> the gate -> results.json, written once, and its history line (`result`).

A step asked for twice is computed once (functools.cached_property); a step that fails raises VsqError,
which the checks that depend on it report as their failure (`check`), while the others still run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

from vsq.pipeline.job import Job
from vsq.errors import ConfigError, VsqError
from vsq.frameworks import for_config
from vsq.pipeline import artifacts
from vsq.pipeline.builds import RecipeBuild, build
from vsq.pipeline.given import with_given
from vsq.cache.store import Cached, deliver, file_digest, files_digest
from vsq.pipeline.options import RunOptions
from vsq.core.verdicts import Check, split_name
from vsq.runtimes.kinds import model_files
from vsq.tasks import for_config as task_of


@dataclass(frozen=True)
class Target:
    """A model for the evaluation pass: its name, evaluation cache key and how to make its predictor.
    contained: its failures are kept for its own checks (a variant), not raised (a reference model)."""

    name: str
    key: str
    predictor: Callable
    contained: bool = False


class Pipeline:
    def __init__(self, job: Job, options: RunOptions):
        self.job, self.config, self.options = job, job.config, options
        self.framework = with_given(for_config(job.config), job.given)  # a given quantized_model takes that role
        self.task = task_of(job.config)  # what the outputs mean: truth, figures, the task's checks
        self.cache_log: dict[str, str] = {}  # artifact -> "hit" / "built" / "failed" (results.json `cache`)
        self.cached = Cached(options.cache, self.cache_log)
        self.sections = [section for section in options.sections  # handed in; each for the tasks it knows
                         if self.config.task in section.tasks and section.applies(self)]
        self.evaluation_failures: dict[str, str] = {}  # contained model -> why it could not be evaluated
        self._builds: dict[str, RecipeBuild] = {}
        self._checks: dict[str, Check] = {}
        self._parts: dict[str, dict | None] = {}
        self._once: dict[str, object] = {}

    @property
    def name(self) -> str:
        return self.config.name

    # --- inputs ---------------------------------------------------------------------------------------

    @cached_property
    def fingerprints(self) -> artifacts.Fingerprints:
        return artifacts.Fingerprints.of(self.job, self.framework)

    @cached_property
    def model(self):
        """The float model (loaded only when something has to be built from it)."""
        return self.framework.load(self.config)

    @cached_property
    def model_info(self):
        """The model's interface, checked against input_tensor_size and labels.json (ConfigError)."""
        from vsq.core.model_info import ModelInfo

        def build_info(folder: Path) -> None:
            (folder / "model_info.json").write_text(json.dumps(vars(self.framework.describe(self.model, self.config))))

        key = artifacts.model_info_key(self.fingerprints, self.framework.describe_settings(self.config))
        entry = self.cached.get_or_build("model-info", key, "model interface", build_info, needs=("model_info.json",))
        raw = json.loads((entry / "model_info.json").read_text())
        info = ModelInfo(*(tuple(tuple(shape) for shape in raw[name]) for name in ("input_shapes", "output_shapes")))
        self.framework.check_matches(self.config, info, self.job.evaluation_set.num_classes)
        return info

    @cached_property
    def calibration(self):
        from vsq.data.calibration import decode_calibration

        return decode_calibration(self.job)

    def calibration_draw(self, seed: int):
        """The calibration batches of another seed (a calibration draw, vsq.sections.calibrations), decoded once."""
        from vsq.data.calibration import decode_calibration

        return self.once(f"calibration draw {seed}", lambda: decode_calibration(self.job, seed))

    # --- builds -----------------------------------------------------------------------------------------

    def build(self, recipe, show_progress: bool = False, seed: int | None = None) -> RecipeBuild:
        """A recipe's files, once per run; a tool's failure is kept in the RecipeBuild. seed: a calibration draw's."""
        if recipe.name not in self._builds:
            self.model_info  # the model must match the configuration before anything is built from it
            self.once("costs", self._say_costs)  # what the sections add to the work, before the first build
            self._builds[recipe.name] = build(self, recipe, show_progress, seed)
        return self._builds[recipe.name]

    def _say_costs(self) -> None:
        import sys

        from vsq.util.text import terminal

        for line in filter(None, (section.cost(self) for section in self.sections)):
            with self.options.progress.visible():
                print(terminal(f"{self.name}: {line}"), file=sys.stderr, flush=True)

    @cached_property
    def default_recipe(self):
        """The default recipe: MCT PTQ for target_platform, named "quantized" (model_quantized.tflite/.onnx)."""
        from vsq.frameworks.recipe_options import default_recipe

        return default_recipe(self.config)

    @cached_property
    def default_build(self) -> RecipeBuild:
        """The default recipe's files: model_quantized.tflite and model_quantized.keras (Keras),
        model_quantized.onnx (PyTorch)."""
        made = self.build(self.default_recipe, show_progress=True)
        if made.error:
            raise VsqError(made.error)
        return made

    @cached_property
    def fake_quant_model(self):
        """MCT's quantized model of the default recipe, as the framework holds it (the explanation's input and,
        without a file, the fake-quant figure's)."""
        made = self.default_build
        return self.framework.fake_quant_model(
            self.default_recipe, made.fake_quant_path,
            lambda: self.framework.quantize(self.default_recipe, self.model, self.calibration.iterate, self.config),
            self.config)

    @cached_property
    def float_file(self) -> Path:
        """output_dir/model.tflite, the float model converted by the framework's standard converter."""
        self.model_info
        name = self.framework.float_export
        entry = self.cached.get_or_build("tflite", artifacts.float_tflite_key(self.fingerprints), name,
                                         lambda folder: self.framework.export_float(self.model, folder / name),
                                         needs=(name,))
        return deliver(entry, name, self.config.output_dir / name)

    @cached_property
    def reference_files(self) -> dict[str, Path | None]:
        """Per reference model key: its file (the source model; model.tflite; model_quantized.tflite or .onnx;
        model_quantized.keras, or None where MCT's quantized model lives in memory only)."""
        given = getattr(self.framework, "given", None)  # vsq.pipeline.given.WithGiven: no MCT build
        by_role = {"float": lambda: getattr(self.config, self.config.source_key),
                   "float_export": lambda: self.float_file if self.framework.float_export else None,
                   "quantized": lambda: given.path if given else self.default_build.path,
                   "fake_quant": lambda: self.default_build.fake_quant_path}
        return {model.key: by_role[model.role]() for model in self.framework.models}

    def role(self, role: str):
        """The framework's reference model of a role (vsq.core.reference.ROLES), or None."""
        return next((model for model in self.framework.models if model.role == role), None)

    # --- the evaluation pass ------------------------------------------------------------------------------

    def file_target(self, name: str, path: Path, contained: bool = False, runtime: str | None = None) -> Target:
        """A built file as an evaluation target: keyed on its digest and the runtime that runs it (`runtime`: a
        variant's, a key of vsq.runtimes.kinds.BY_KEY; None: its suffix's)."""
        settings = self.framework.runtime_settings(path, self.config, runtime)
        files = model_files(path)  # an OpenVINO IR is its .xml and its .bin
        digest = file_digest(path) if len(files) == 1 else files_digest(files, Path(path).parent)
        key = artifacts.evaluation_key(self.job, self.fingerprints, digest, settings)
        return Target(name, key, lambda: self.framework.file_predictor(path, self.config, runtime=runtime), contained)

    @cached_property
    def evaluations(self) -> dict:
        """The task's evaluation per model (vsq.tasks.base.Evaluation): the reference models, then the sections' (variants), all on the same
        decoded images in one pass for those the cache does not hold."""
        float_model, files = self.framework.models[0].key, self.reference_files
        targets = [Target(float_model, artifacts.evaluation_key(self.job, self.fingerprints, self.fingerprints.model,
                                                                None),
                          lambda: self.framework.predictor(self.model))]
        targets += [self.file_target(key, path) for key, path in files.items() if key != float_model and path]
        for key in (key for key, path in files.items() if path is None):  # MCT's quantized model, in memory only
            build_key = artifacts.recipe_key(self.job, self.fingerprints, self.default_recipe, key)
            targets.append(Target(key, artifacts.evaluation_key(self.job, self.fingerprints, build_key, None),
                                  lambda: self.framework.predictor(self.fake_quant_model)))
        for section in self.sections:
            targets += section.targets(self)
        return self._evaluate(targets)

    @cached_property
    def decoded_images(self):
        """The evaluation images, decoded once per run and reused by every later pass (vsq.pipeline.evaluate)."""
        from vsq.pipeline import evaluate

        return evaluate.DecodedImages(self.config, self.job.evaluation_set)

    def _evaluate(self, targets: list[Target]) -> dict:
        from vsq.pipeline import evaluate

        found, missing = {}, []
        for target in targets:
            entry = self.cached.get("evaluation", target.key, f"evaluation of {target.name}", needs=self.task.stored)
            if entry:
                found[target.name] = self.task.load(entry)
            else:
                missing.append(target)
        predictors = {}
        for target in missing:
            try:
                predictors[target.name] = target.predictor()
            except VsqError as error:
                if not target.contained:
                    raise
                self.evaluation_failures[target.name] = str(error)
        if predictors:
            config = self.config
            with self.options.progress.bar(total=len(self.job.evaluation_set.paths), unit="img",
                                           desc=f"{self.name}: evaluating {', '.join(predictors)}") as bar:
                built = evaluate.evaluate_models(
                    predictors, config, self.job.evaluation_set, progress=bar,
                    skip_unreadable=config.unreadable_images == "skip",
                    contain={target.name for target in missing if target.contained},
                    failures=self.evaluation_failures, task=self.task, decoded=self.decoded_images)
            keys = {target.name: target.key for target in missing}
            for name, result in built.items():
                with self.cached.cache.put("evaluation", keys[name]) as folder:
                    self.task.save(result, folder)
            found.update(built)
        return {target.name: found[target.name] for target in targets if target.name in found}

    # --- the document and the verdicts ---------------------------------------------------------------------

    @cached_property
    def core(self) -> dict:
        """The document's core: the spec's figures, per-model statistics, images, environment, per-image record."""
        from vsq.pipeline.document import build_core

        return build_core(self)

    def part(self, key: str) -> dict | None:
        """A section's part of the document (None when the section has nothing to say), built once."""
        if key not in self._parts:
            section = next(section for section in self.sections if section.key == key)
            self._parts[key] = section.build(self)
        return self._parts[key]

    def once(self, key: str, make: Callable):
        """A section's own step (the variants' builds, the IMX500 conversion), computed once per run."""
        if key not in self._once:
            self._once[key] = make()
        return self._once[key]

    def has_section(self, key: str) -> bool:
        return any(section.key == key for section in self.sections)

    def section_hint(self, key: str) -> str:
        """What the run's section of that key adds to a failing check's message ("" without the section)."""
        return next((section.hint(self.part(key)) for section in self.sections if section.key == key), "")

    def check_specs(self) -> list:
        from vsq.pipeline.checks import CORE_CHECKS

        return [*CORE_CHECKS, *self.task.checks, *self.framework.checks, *(spec for section in self.sections for spec in section.checks)]

    def spec(self, name: str):
        """The CheckSpec of a check's name ('variant_file_written[tf_float16]' -> variant_file_written's)."""
        base = split_name(name)[0]
        found = next((spec for spec in self.check_specs() if spec.name == base), None)
        if found is None:
            raise KeyError(f"{self.name}: no check {name!r} in this run")
        return found

    def planned_checks(self) -> list[str]:
        """Every check this configuration's run will make, by name; no heavy work (collection time)."""
        return [name for spec in self.check_specs() for name in spec.names(self)]

    def check(self, name: str) -> Check:
        """The named check's verdict, computed once. A step it needs that failed (VsqError) fails it with
        that step's message; a configuration that does not match its model (ConfigError) stops the run."""
        if name not in self._checks:
            spec = self.spec(name)
            if name not in spec.names(self):
                raise KeyError(f"{self.name}: no check {name!r} in this run")
            try:
                self._checks[name] = spec.run(self, split_name(name)[1])
            except ConfigError:
                raise
            except VsqError as error:
                self._checks[name] = Check(False, f"{self.name}: {' '.join(str(error).split())}", {"error": str(error)})
        return self._checks[name]

    @cached_property
    def result(self):
        """The run's RunResult: the whole document with its verdicts map and gate, written once to
        results.json (atomically) with its history line."""
        from vsq.pipeline.results import finish

        return finish(self)
