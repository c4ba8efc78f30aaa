"""The variants section (a configuration's `variants`): every recipe built through the same pipeline as the
default model, evaluated in the same pass on the same images, compared (vsq.sections.comparison), checked.

A variant that its tool cannot build, or that builds but cannot be evaluated, fails its own checks with
the tool's message; the other variants, and the default model, are built and evaluated.
"""

from __future__ import annotations

from vsq.core.check_names import RECOMMENDATION_CHECK, VARIANT_DROP_CHECK
from vsq.core.verdicts import Check, CheckSpec, drop_check, float_near_chance, floor_check, unless_float_near_chance
from vsq.runtimes.kinds import device_of
from vsq.sections.base import Section
from vsq.util.paths import shown


class Variants(Section):
    key = "variants"

    def applies(self, pipeline) -> bool:
        from vsq.pipeline.given import compared

        return bool(pipeline.config.variants or compared(pipeline.job.given))  # given files are rows too

    def builds(self, pipeline) -> dict:
        """Every variant's RecipeBuild, by name, built once, with a bar over them written between builds."""
        return pipeline.once("variant builds", lambda: self._build_all(pipeline))

    @staticmethod
    def _build_all(pipeline) -> dict:
        variants, builds = pipeline.config.variants, {}
        if not variants:  # only given files' rows: nothing to build
            return builds
        with pipeline.options.progress.steps(total=len(variants), desc=f"{pipeline.name}: variants",
                                             unit="variant") as advance:
            for variant in variants:
                made = builds[variant.name] = pipeline.build(variant)
                how = f"{made.seconds:.0f} s" if made.seconds is not None else "cached"
                advance(f"{variant.name}: {'FAILED' if made.error else how}")
        return builds

    def targets(self, pipeline) -> list:
        from vsq.pipeline.given import compared

        return [*(pipeline.file_target(name, made.path, contained=True, runtime=made.recipe.runtime)
                  for name, made in self.builds(pipeline).items() if made.path),
                *(pipeline.file_target(item.name, item.path, contained=True) for item in compared(pipeline.job.given))]

    def build(self, pipeline) -> dict:
        from vsq.sections.comparison import variants_section

        evaluations = pipeline.evaluations
        references = {model.key for model in pipeline.framework.models}
        variants = {name: result for name, result in evaluations.items() if name not in references}  # given: rows too
        return variants_section(pipeline, self.builds(pipeline), variants, pipeline.evaluation_failures)

    def terminal_lines(self, name: str, document: dict) -> list[str]:
        section = document.get(self.key)
        if not section:
            return []
        pick = section["recommended"] or "none (no quantized model is within its thresholds)"
        device = section["models"].get(section["recommended"], {}).get("device")
        lines = [f"{name}: recommended (*): {pick}{f' ({device})' if device else ''} (the smallest file within its "
                 "thresholds)"]
        by_device = section.get("recommended_by_device") or {}
        if len(by_device) > 1:  # rows for several devices: the pick for each
            lines.append(f"{name}: recommended per device: " + "; ".join(
                f"{device}: {pick or 'none'}" for device, pick in by_device.items()))
        return lines + [f"{name}: {variant} failed: {' '.join(message.split())}"
                        for variant, message in section["failed"].items()]

    def html(self, name: str, document: dict) -> str:
        from vsq.rendering.html_parts import variants_table

        return variants_table(document)


def _names(pipeline) -> list[str]:
    return [variant.name for variant in pipeline.config.variants]


def _full_integer_names(pipeline) -> list[str]:
    return [variant.name for variant in pipeline.config.variants if variant.kind == "tf_full_integer"]


def _build_figures(made, config) -> dict:
    from vsq.frameworks.recipe_options import target_platform

    figures = {"kind": made.recipe.kind, "file": str(made.path) if made.path else None, "build": made.cache,
               "device": device_of(made.recipe.kind, target_platform(made.recipe, config), made.recipe.runtime),
               "build_seconds": None if made.seconds is None else round(made.seconds, 2)}
    return {**figures, "error": made.error} if made.error else figures


def _built(pipeline, name: str):
    """The variant's RecipeBuild and its figures, or a failing Check with the reason it was not built."""
    made = VARIANTS.builds(pipeline)[name]
    figures = _build_figures(made, pipeline.config)
    if made.error:
        return None, figures, Check(False, f"{pipeline.name}: {' '.join(made.error.split())}", figures)
    return made, figures, None


def variant_file_written(pipeline, name: str) -> Check:
    from vsq.runtimes.kinds import model_files

    made, figures, failed = _built(pipeline, name)
    if failed:
        return failed
    sizes = {file: file.stat().st_size if file.is_file() else 0 for file in model_files(made.path)}
    empty = next((file for file, size in sizes.items() if not size), made.path)  # an OpenVINO IR is two files
    size = sum(sizes.values()) if all(sizes.values()) else 0
    return Check(made.path.parent == pipeline.config.output_dir and size > 0,
                 f"{pipeline.name}: {shown(empty)} is {'empty or missing' if not size else 'not in output_dir'}",
                 {**figures, "size_bytes": size})


def variant_weights_stored_as_its_kind(pipeline, name: str) -> Check:
    from vsq.runtimes.storage import describe, weight_problems

    made, figures, failed = _built(pipeline, name)
    if failed:
        return failed
    description = describe(made.path)
    figures = {**figures, **{f"weights_{dtype}_bytes": item["bytes"] for dtype, item in description["weights"].items()},
               "weight_tensors": len(description["kernels"])}
    problems = weight_problems(made.recipe.kind, description)
    return Check(not problems, f"{pipeline.name}: {made.path.name} ({made.recipe.kind}) " + "; ".join(problems),
                 figures)


def full_integer_input_and_output_types(pipeline, name: str) -> Check:
    from vsq.runtimes.tflite_storage import describe_tflite, io_problems

    made, figures, failed = _built(pipeline, name)
    if failed:
        return failed
    description = describe_tflite(made.path)
    variant = made.recipe
    figures = {**figures, "io_type": variant.io_type, "inputs": ",".join(description["inputs"]),
               "outputs": ",".join(description["outputs"])}
    problems = io_problems(variant.kind, variant.io_type, description)
    return Check(not problems, f"{pipeline.name}: {made.path.name} ({variant.kind}) " + "; ".join(problems), figures)


def _compared(pipeline, name: str):
    """The variant's row in the comparison, or a failing Check: not built, or built but not evaluated."""
    made, figures, failed = _built(pipeline, name)
    if failed:
        return None, None, figures, failed
    row = pipeline.part(VARIANTS.key)["models"][name]
    if row.get("error"):
        return None, None, figures, Check(False, f"{pipeline.name}: {made.path.name} could not be evaluated: "
                                          f"{' '.join(row['error'].split())}", figures)
    float_key = pipeline.framework.models[0].key
    figures = {**figures, **{key: row.get(key) for key in ("top_5_accuracy", f"agreement_with_{float_key}", "file_size_bytes",
                                                            "latency_ms_per_image")}}
    return made, row, figures, None


def variant_top1_drop_within_threshold(pipeline, name: str) -> Check:
    made, row, figures, failed = _compared(pipeline, name)
    if failed:
        return failed
    float_model = pipeline.framework.models[0]
    described = f"{made.path.name} ({made.recipe.kind})"
    check = drop_check(pipeline.name, described, row, pipeline.core[float_model.spec_key],
                       "the variant's max_top1_drop", float_model)
    check = unless_float_near_chance(pipeline.name, described, check, pipeline.core, pipeline.config.thresholds)
    return Check(check.ok, check.message, {**figures, **check.figures}, check.verdict)


def variant_top1_above_minimum(pipeline, name: str) -> Check:
    made, row, figures, failed = _compared(pipeline, name)
    if failed:
        return failed
    check = floor_check(pipeline.name, f"{made.path.name} ({made.recipe.kind})", row["top_1_accuracy"],
                        made.recipe.min_top1, pipeline.core["num_classes"], "the variant's min_top1")
    check = unless_float_near_chance(pipeline.name, None, check, pipeline.core, pipeline.config.thresholds)
    return Check(check.ok, check.message, {**figures, **check.figures})


def variants_recommend_a_quantized_model(pipeline, _=None) -> Check:
    """The comparison's recommendation (vsq.sections.comparison.RECOMMENDATION_RULE) names a quantized model:
    the smallest file among the default model, the variants and the given files within their thresholds."""
    from vsq.sections.comparison import RECOMMENDATION_RULE

    section = pipeline.part(VARIANTS.key)
    candidates = {name: row for name, row in section["models"].items() if row.get("candidate")}
    within = [name for name, row in candidates.items() if row.get("within_threshold")]
    figures = {"recommended": section["recommended"] or "", "quantized_models": len(candidates),
               "within_thresholds": len(within), "rule": RECOMMENDATION_RULE}
    if float_near_chance(pipeline.core, pipeline.config.thresholds):
        why = "the float model is near chance, so every drop is meaningless (drops_are_meaningful); fix the evaluation"
    else:
        tops = ", ".join(f"{name} {row['top_1_accuracy']:.4f}" if row.get("top_1_accuracy") is not None
                         else f"{name} not evaluated" for name, row in list(candidates.items())[:6])
        why = (f"none of the {len(candidates)} quantized models is within its max_top1_drop and min_top1 (Top-1: "
               f"{tops}); see each model's drop and minimum checks, or let a search try other recipes")
    return Check(section["recommended"] is not None, f"{pipeline.name}: no quantized model is recommended: {why}",
                 figures)


VARIANTS = Variants()
VARIANTS.checks = (
    CheckSpec("variant_file_written", variant_file_written, _names, whole_run=True),
    CheckSpec("variant_weights_stored_as_its_kind", variant_weights_stored_as_its_kind, _names, whole_run=True),
    CheckSpec("full_integer_input_and_output_types", full_integer_input_and_output_types, _full_integer_names, whole_run=True),
    CheckSpec(VARIANT_DROP_CHECK, variant_top1_drop_within_threshold, _names, whole_run=True),
    CheckSpec("variant_top1_above_minimum", variant_top1_above_minimum, _names, whole_run=True),
    CheckSpec(RECOMMENDATION_CHECK, variants_recommend_a_quantized_model, whole_run=True),
)
