"""Model files the configuration gives (`quantized_model`, `models`; vsq.pipeline.given): results.json's `given`
part (per file: where it is, its format, its input contract, the runtime that ran it) and their checks.

The given quantized file is judged by the core checks of the quantized role (quantized_top1_drop_within_threshold,
quantized_top1_above_minimum); here, that it is stored as a quantized file of its format. Each of `models` is a
row of the variants table (vsq.sections.comparison), judged by its own thresholds like a variant.
"""

from __future__ import annotations

from vsq.core.verdicts import Check, CheckSpec, drop_check, floor_check, unless_float_near_chance
from vsq.sections.base import Section

# The integer kind of each format's storage rules (vsq.runtimes.*_storage.weight_problems): every weight tensor
# of a computing op stored as an integer (TFLite: as a full-integer file; ONNX QDQ: int8 initializers read through
# DequantizeLinear, quantized activations; OpenVINO: NNCF's int8 weights and FakeQuantize ops); MCT's .keras has
# its own rule (vsq.frameworks.keras.storage).
INTEGER_KIND = {"tflite": "tf_full_integer", "onnx": "onnxruntime_int8", "openvino": "openvino_int8"}


class GivenSection(Section):
    key = "given"

    def applies(self, pipeline) -> bool:
        return bool(pipeline.job.given)

    def build(self, pipeline) -> dict:
        from vsq.pipeline.given import contract_of, runtime_record

        return {item.name: {"file": str(item.path), "key": item.key, "role": item.role, "format": item.format,
                            "contract": contract_of(item).as_dict(), "runtime": runtime_record(item, pipeline.config),
                            "max_top1_drop": item.max_top1_drop, "min_top1": item.min_top1}
                for item in pipeline.job.given}

    def terminal_lines(self, name: str, document: dict) -> list[str]:
        return [f"{name}: given {model} ({entry['format']}, {entry['contract']['layout']} "
                f"{entry['contract']['input_type']}) ran on {(entry['runtime'] or {}).get('name', '?')}"
                for model, entry in (document.get(self.key) or {}).items()]


def _quantized(pipeline):
    return getattr(pipeline.framework, "given", None)


def _compared_names(pipeline) -> list[str]:
    from vsq.pipeline.given import compared

    return [item.name for item in compared(pipeline.job.given)]


def given_quantized_weights_are_integer(pipeline, _=None) -> Check:
    """The given quantized file stores its weights as integers, by its format's rules; MCT's .keras: every
    computing layer's kernel under an MCT weights quantizer of at most 8 bits (vsq.frameworks.keras.storage)."""
    item = _quantized(pipeline)
    description, problems = _storage(item)
    if not description["kernels"]:
        problems.append("has no weight tensor of a computing op")
    figures = {"format": item.format, "weight_tensors": len(description["kernels"]),
               **{f"weights_{dtype}_bytes": entry["bytes"] for dtype, entry in description["weights"].items()
                  if entry["bytes"] is not None},
               **({"weights_quantized_layers": sum(k["type"] != "float32" for k in description["kernels"])}
                  if item.format == "keras" else {})}
    return Check(not problems, f"{pipeline.name}: quantized_model {item.path.name} " + "; ".join(problems), figures)


def _storage(item) -> tuple[dict, list[str]]:
    """The file's storage description and the ways its weights are not integer, by its format."""
    if item.format == "keras":
        from vsq.frameworks.keras.storage import describe_keras, weight_problems as keras_problems

        description = describe_keras(item.path)
        return description, keras_problems(description)
    from vsq.runtimes.kinds import describe, weight_problems

    description = describe(item.path)
    return description, weight_problems(INTEGER_KIND[item.format], description)


def _row(pipeline, name: str):
    row = pipeline.part("variants")["models"][name]
    if row.get("error"):
        return None, Check(False, f"{pipeline.name}: given model {name} could not be evaluated: "
                           f"{' '.join(row['error'].split())}", {"file": row["file"]})
    return row, None


def given_model_top1_drop_within_threshold(pipeline, name: str) -> Check:
    row, failed = _row(pipeline, name)
    if failed:
        return failed
    float_model = pipeline.framework.models[0]
    described = f"given model {name} ({row['kind']})"
    check = drop_check(pipeline.name, described, row, pipeline.core[float_model.spec_key],
                       f"models' {name} max_top1_drop", float_model)
    check = unless_float_near_chance(pipeline.name, described, check, pipeline.core, pipeline.config.thresholds)
    return Check(check.ok, check.message, {"file": row["file"], **check.figures}, check.verdict)


def given_model_top1_above_minimum(pipeline, name: str) -> Check:
    row, failed = _row(pipeline, name)
    if failed:
        return failed
    check = floor_check(pipeline.name, f"given model {name}", row["top_1_accuracy"], row["min_top1"],
                        pipeline.core["num_classes"], f"models' {name} min_top1")
    check = unless_float_near_chance(pipeline.name, None, check, pipeline.core, pipeline.config.thresholds)
    return Check(check.ok, check.message, {"file": row["file"], **check.figures})


GIVEN = GivenSection()
GIVEN.checks = (
    CheckSpec("given_quantized_weights_are_integer", given_quantized_weights_are_integer, whole_run=True,
              applies=lambda p: _quantized(p) is not None),
    CheckSpec("given_model_top1_drop_within_threshold", given_model_top1_drop_within_threshold, _compared_names,
              whole_run=True),
    CheckSpec("given_model_top1_above_minimum", given_model_top1_above_minimum, _compared_names, whole_run=True),
)
