"""The preprocessing screen (results.json `screen`): before a drop is blamed on quantization, is the float model
evaluated the way it was trained? Wrong normalization, BGR for RGB, a 1001-class offset or labels.json in another
order make the float model itself score far below what it can, and every quantized figure after that measures the
mistake.

On a sample of evaluation images (screen.max_images, spread over the sorted folder so that every class is in it;
decoded once per resize mode, the normalizations and the channel order derived from the decoded pixels) the float
model is run, through the framework seam's predictor, under the configured preprocessing and the likely
alternatives, and its predictions are read under labels.json as written and the likely other readings
(vsq.sections.screen_search has the list and the rule). An alternative that scores clearly better fails
preprocessing_matches_the_model or label_order_matches_the_model, with the change to make. The screen is cached
like every artifact (the model, the images, the preprocessing, the image library, TensorFlow, the settings): a warm
run costs nothing, and a cold one runs it where the model is loaded anyway. A screen that cannot run (no sample
image decodes) is recorded with its reason and fails its checks; it never stops the run.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from html import escape

import numpy as np

from vsq.errors import ConfigError, VsqError, one_line
from vsq.pipeline import artifacts
from vsq.core.verdicts import Check, CheckSpec
from vsq.sections.base import Section
from vsq.core.layers import spread_indices
from vsq.sections.screen_search import LABELS, PREPROCESSING_FIELDS, Rule, search
from vsq.sections.screen_words import best_alternative_hint, change_text, found_sentence, value_text

RESULT_FILE = "screen.json"
WHAT = "preprocessing screen"  # the artifact's name in the cache log (results.json `cache`)
BATCH_IMAGES = 32  # images normalised and predicted at once: memory stays flat with screen.max_images


class ScreenSection(Section):
    key = "screen"

    def applies(self, pipeline) -> bool:
        return pipeline.config.screen.enabled

    def build(self, pipeline) -> dict:
        key = artifacts.screen_key(pipeline.job, pipeline.fingerprints)

        def build(folder):
            (folder / RESULT_FILE).write_text(json.dumps(run_screen(pipeline), allow_nan=False))

        try:
            entry = pipeline.cached.get_or_build("screen", key, WHAT, build, needs=(RESULT_FILE,))
            part = json.loads((entry / RESULT_FILE).read_text())
        except ConfigError:  # the model does not match the configuration: the run stops (exit code 4)
            raise
        except Exception as error:  # no image decodes, the model fails on the sample: its checks fail with it
            pipeline.cache_log[WHAT] = "failed"
            return {"status": "failed", "error": one_line(error)}
        if pipeline.cache_log[WHAT] == "hit":
            part["build_seconds"] = None
        return {**part, "cache": pipeline.cache_log[WHAT]}

    def html(self, name: str, document: dict) -> str:
        return html_part(name, document)

    def hint(self, part: dict | None) -> str:
        return best_alternative_hint(part)

    def terminal_lines(self, name: str, document: dict) -> list[str]:
        part = document.get(self.key)
        if not part:
            return []
        checks = document.get("checks", {})
        if any(checks.get(spec.name, {}).get("verdict", "PASS") != "PASS" for spec in SCREEN.checks):
            return []  # a failing screen check's reason line says it already
        if part.get("status") == "failed":
            return [f"{name}: the preprocessing screen failed: {part['error']}"]
        return [found_sentence(name, part)] if part.get("found") else []


def run_screen(pipeline) -> dict:
    """The screen of the pipeline's float model on its sample: vsq.sections.screen_search's figures, the
    sample's size, and the seconds it took (decoding and every pass of the model)."""
    started = time.perf_counter()
    pipeline.model_info  # the model must match the configuration before it runs (ConfigError)
    config, evaluation = pipeline.config, pipeline.job.evaluation_set
    chosen = spread_indices(len(evaluation.paths), config.screen.max_images)
    paths, labels = [evaluation.paths[i] for i in chosen], np.asarray(evaluation.labels)[chosen]
    first = _decode(config.preprocessing, paths)
    kept = [i for i, item in enumerate(first) if not isinstance(item, Exception)]
    if not kept:
        raise VsqError(f"none of the {len(paths)} evaluation images sampled for the preprocessing screen could be "
                       f"decoded ({first[0]})")
    paths, labels = [paths[i] for i in kept], labels[kept]
    pixels = {_geometry(config.preprocessing): np.stack([first[i].pixels for i in kept])}
    predict = pipeline.framework.predictor(pipeline.model)

    with pipeline.options.progress.bar(total=None, unit="pass",
                                       desc=f"{pipeline.name}: preprocessing screen on {len(paths)} images") as bar:
        def predictions(preprocessing) -> np.ndarray:
            geometry = _geometry(preprocessing)
            if geometry not in pixels:  # the other resize mode: the same images decoded again
                decoded = _decode(preprocessing, paths)
                failed = [item for item in decoded if isinstance(item, Exception)]
                if failed:
                    raise VsqError(f"{failed[0]} (decoding for the preprocessing screen's {preprocessing.mode})")
                pixels[geometry] = np.stack([item.pixels for item in decoded])
            sample = pixels[geometry]
            out = np.concatenate([np.argmax(np.asarray(predict(preprocessing.normalize(sample[i:i + BATCH_IMAGES]))),
                                            axis=1) for i in range(0, len(sample), BATCH_IMAGES)])
            bar.update(1)
            return out

        settings = config.screen
        part = search(config.preprocessing, evaluation.class_names, labels, predictions,
                      Rule(settings.min_gain_points, settings.max_p_value))
    return {"status": "ok", **part, "of_images": len(evaluation.paths),
            "build_seconds": round(time.perf_counter() - started, 3)}


def _geometry(preprocessing) -> tuple:
    """What decoding depends on among the fields the screen changes: the resize mode (and its crop)."""
    return preprocessing.mode, preprocessing.shorter_side if preprocessing.mode == "shorter_side" else None


def _decode(preprocessing, paths: list) -> list:
    """Decoded (uint8 pixels) or ImageError per path, in threads (Pillow releases the GIL)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(preprocessing.try_decode, paths))


# --- words ----------------------------------------------------------------------------------------------------


def _figures(part: dict) -> dict:
    if part.get("status") == "failed":
        return {"screen_error": part["error"]}
    found, best, rule = part.get("found"), part.get("best_alternative") or {}, part["rule"]
    return {"screen_images": part["images"], "screen_configured_top1": part["configured"]["top_1_accuracy"],
            "screen_found": change_text(found["changes"]) if found else "none",
            "screen_found_top1": found["top_1_accuracy"] if found else None,
            "screen_best_alternative": change_text(best["changes"]) if best else "none",
            "screen_best_alternative_top1": best.get("top_1_accuracy"),
            "screen_min_gain_points": rule["min_gain_points"], "screen_max_p_value": rule["max_p_value"],
            "screen_passes": part["passes"], "screen_seconds": part.get("build_seconds"),
            "screen_cache": part.get("cache")}


def _screen_check(field_matches, other: str | None = None):
    """A screen check: fails when the screen's finding changes a field it owns. With thresholds.min_float_top1 0
    (a model with no accuracy to protect, such as random weights) it records the finding and passes. `other`: the
    check that already says a finding changing its fields too (the sentence is given once)."""
    def run(pipeline, _=None) -> Check:
        part = pipeline.part(SCREEN.key)
        gates = pipeline.config.thresholds.min_float_top1 != 0
        figures = {**_figures(part), "screen_gates": gates}
        if part.get("status") == "failed":
            return Check(not gates, f"{pipeline.name}: the preprocessing screen failed: {part['error']}", figures)
        found = part.get("found")
        ok = found is None or not field_matches(found["changes"]) or not gates
        if ok:
            return Check(True, "", figures)
        if other and any(field in found["changes"] for field in PREPROCESSING_FIELDS):
            return Check(False, f"{pipeline.name}: the screen's finding changes labels.json too: see {other}", figures)
        return Check(False, found_sentence(pipeline.name, part), figures)

    return run


def html_part(name: str, document: dict) -> str:
    """The screen's table: the configuration and the best alternatives on the sample, the finding in red."""
    part = document.get(SCREEN.key)
    if not part:
        return ""
    if part.get("status") == "failed":
        return f'<p class="vsq-fail">{escape(name)}: the preprocessing screen failed: {escape(part["error"])}</p>'
    rows = sorted(part["alternatives"], key=lambda row: -row["top_1_accuracy"])[:8]
    found = part.get("found")
    configured = ", ".join(value_text(part["configured"][field]) for field in PREPROCESSING_FIELDS)
    body = [f"<tr><td>the configuration ({escape(configured)}; labels.json as written)</td>"
            f"<td>{part['configured']['top_1_accuracy']:.4f}</td><td></td><td></td><td></td></tr>"]
    for row in rows:
        mark = ' class="vsq-fail"' if found and row["changes"] == found["changes"] else ""
        body.append(f"<tr><td{mark}>{escape(change_text(row['changes']))}</td><td>{row['top_1_accuracy']:.4f}</td>"
                    f"<td>{row['gain_points']:+.1f}</td><td>{row['p_value']:.2g}</td>"
                    f"<td>{'yes' if row['clearly_better'] else 'no'}</td></tr>")
    head = "".join(f"<th>{cell}</th>" for cell in ("preprocessing and labels", "Top-1", "gain (pp)", "McNemar p",
                                                  "clearly better"))
    rule = part["rule"]
    verdict = (f'<p class="vsq-fail">{escape(found_sentence(name, part))}</p>' if found
               else f'<p class="vsq-note">{escape(name)}: no alternative scores clearly better than the configuration '
                    f"({len(part['alternatives'])} tried, {part['passes']} passes of the model).</p>")
    verdict += (f'<p class="vsq-note">Gain and p against the configuration. Clearly better: at least '
                f"+{rule['min_gain_points']:g} points over where its round started (round 1: the configuration; a "
                f"later round starts from the previous finding) and McNemar p times the alternatives of the round "
                f"below {rule['max_p_value']:g}.</p>")
    return (f"<h4>{escape(name)}: preprocessing screen, the float model on {part['images']} evaluation images</h4>"
            f'<table class="vsq-variants"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            f"{verdict}")


SCREEN = ScreenSection()
SCREEN.checks = (
    CheckSpec("preprocessing_matches_the_model",
              _screen_check(lambda changes: any(field in changes for field in PREPROCESSING_FIELDS)), whole_run=True),
    CheckSpec("label_order_matches_the_model", _screen_check(lambda changes: LABELS in changes,
                                                             other="preprocessing_matches_the_model"), whole_run=True),
)
