"""Where an accepted baseline came from: the digest of the configuration's settings that make the figures, and
the versions of the stack that computed them. A baseline made by another configuration or stack (another
TensorFlow, MCT or runtime) is its own failing check, said as such, not a silent comparison of figures that
were never comparable.

The digest leaves out what does not change a figure (Top-1, a detector's mAP): the name (baselines are keyed by it),
the thresholds (the gate's policy; a detector's are among its settings), where outputs go, the grants of the
command line and the sections that only report (imx500, explanation, screen). Paths are taken as written (relative
to the configuration's folder), so a baseline accepted on one machine matches the same configuration checked out on
another.
"""

from __future__ import annotations

import hashlib
import json

NOT_FIGURES = ("name", "file", "baseline", "thresholds", "output_dir", "evaluate_result_dir", "allow_unsafe_model_code",
               "imx500", "explanation", "screen", "expected_top1")
NOT_STACK = ("vsq", "python", "host", "cpu")  # vsq itself, and the machine: not versions of what computes figures
VERSION_PARTS = ("interpreter", "version", "pillow", "jpeg", "converters")  # of the environment's nested entries
# Keys of a part that judge the figures, not make them (a detector's threshold, floor and bootstrap draws)
JUDGING = {"detection": ("max_map_drop", "min_map", "bootstrap_resamples")}


def configuration_digest(configuration: dict) -> str:
    """SHA-256 (first 16 hex digits) of the settings of a results.json's `configuration` that make the figures."""
    kept = {key: value for key, value in configuration.items()
            if key not in NOT_FIGURES and not key.endswith("_resolved")}
    for part, keys in JUDGING.items():
        if isinstance(kept.get(part), dict):
            kept[part] = {key: value for key, value in kept[part].items() if key not in keys}
    # Recipes without options are the recipes of before options existed: their baselines still match.
    if kept.get("quantization") == {"options": {}}:
        del kept["quantization"]
    if isinstance(kept.get("variants"), list):
        kept["variants"] = [{key: value for key, value in variant.items() if not (key == "options" and value == {})}
                            if isinstance(variant, dict) else variant for variant in kept["variants"]]
    return hashlib.sha256(json.dumps(kept, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()[:16]


def stack_versions(environment: dict) -> dict:
    """The versions of a results.json's `environment` that compute the figures, flat: {"tensorflow": "2.15.1",
    "tflite_runtime.version": "2.15.1", ...}."""
    out = {}
    for key, value in environment.items():
        if key in NOT_STACK:
            continue
        if isinstance(value, dict):
            out.update({f"{key}.{part}": value[part] for part in VERSION_PARTS if part in value})
        else:
            out[key] = value
    return out


def origin(document: dict) -> dict:
    """What a baseline entry records of the run that made it: its configuration's digest, its stack, and its
    evaluation set (results.json's provenance.evaluation_digest, the digest of the image files and annotations the
    pipeline's fingerprints hold; None in a document of before it) with the images used."""
    return {"configuration_digest": configuration_digest(document["configuration"]),
            "stack": stack_versions(document["environment"]),
            "evaluation_digest": (document.get("provenance") or {}).get("evaluation_digest"),
            "num_images": document["num_images"]}


def evaluation_set(accepted: dict, today: dict) -> str:
    """Whether the accepted entry was made on today's evaluation set (image files and annotations), in words."""
    then = accepted.get("evaluation_digest")
    if not isinstance(then, str) or today.get("evaluation_digest") is None:
        return "not recorded (accepted by a vsq that did not record its evaluation set)" if not isinstance(then, str) \
            else "not recorded today"
    if then == today["evaluation_digest"]:
        return "the same"
    count = f"{_short(accepted.get('num_images'))} -> {_short(today.get('num_images'))} images"
    same = accepted.get("num_images") == today.get("num_images")
    return f"another evaluation set ({count}{': other image files or annotations' if same else ''})"


def mismatch(accepted: dict, today: dict) -> str | None:
    """Why an accepted entry (its origin keys) was not made by today's configuration and stack; None when it was.
    today: origin(today's document)."""
    if "configuration_digest" not in accepted or not isinstance(accepted.get("stack"), dict):
        return "records no configuration digest or stack versions (accepted by an older vsq)"
    said = []
    if accepted["configuration_digest"] != today["configuration_digest"]:
        said.append(f"another configuration (digest {str(accepted['configuration_digest'])[:16]}, today "
                    f"{today['configuration_digest']}: a setting that makes the figures changed)")
    then, now = accepted["stack"], today["stack"]
    # A key the accepted stack lacks was not recorded by the vsq that accepted it (a library vsq began to record
    # since): not a change. A key recorded with another value (null -> a version among them) is.
    changed = [f"{_short(key)} {_short(then[key])} -> {_short(now.get(key))}" for key in sorted(then)
               if then[key] != now.get(key)]
    if changed:
        shown = ", ".join(changed[:3])
        shown = (shown if len(shown) <= 160 else shown[:157] + "...") + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        said.append(f"another stack ({shown})")
    evaluated = evaluation_set(accepted, today)
    if evaluated.startswith("another") and "per_image" not in accepted:  # paired entries compare the shared images
        said.append(evaluated)
    return "was made by " + " and ".join(said) if said else None


def _short(value) -> str:
    """A version as the message shows it: bounded, whatever the (untrusted) baseline file holds."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."
