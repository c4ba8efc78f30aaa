"""Every attack of issues 22 and 31 (the latter in benchmarks/attacks_round2.py), tried on a vsq checkout as an
attacker would: hostile files made by hand (the helpers of tests/hostile.py), then the commands an operator runs (`python -m vsq run`, `python -m vsq report`), and what
happened. Run it on two checkouts to compare them (README, "Security"):

    python benchmarks/attacks.py --repo /path/to/other/checkout --work-dir /tmp/attacks-main
    python benchmarks/attacks.py --work-dir /tmp/attacks-branch

The checkout's vsq is put first on PYTHONPATH of every command; this script's own helpers (tests/hostile.py,
tests/tiny.py) only write files. Prints one Markdown row per attack. About 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))

import hostile  # noqa: E402
import tiny  # noqa: E402
from attacks_round2 import GROUPS as ROUND2, Round2  # noqa: E402

SCRIPT = "<script>alert(1)</script>"


class Attacks(Round2):
    def __init__(self, repo: Path, work: Path):
        self.repo, self.work = repo, work
        self.env = {**os.environ, "PYTHONPATH": str(repo), "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"}
        self.new = (repo / "vsq" / "configuration" / "grants.py").exists()  # knows --imx500-converter
        self.rows: list[tuple[str, str]] = []

    # --- helpers ---------------------------------------------------------------------------------------------

    def vsq(self, cwd, *args, timeout=900, env=None):
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", "vsq", *map(str, args)], cwd=cwd, capture_output=True,
                                  text=True, timeout=timeout, env={**self.env, **(env or {})})
        except subprocess.TimeoutExpired:
            return None, "", f"timed out after {timeout} s", time.perf_counter() - started
        return done.returncode, done.stdout, done.stderr, time.perf_counter() - started

    def project(self, name: str, model: Path | None = None, mislabelled: int = 0, **overrides) -> tuple[Path, Path]:
        """A tiny project (tests/tiny.py) with `model` (default: the tiny classifier) and its configuration."""
        root = self.work / name
        shutil.rmtree(root, ignore_errors=True)
        tiny.write_data(root, mislabelled=mislabelled)
        model = model or self.model
        if model.is_file():
            shutil.copy(model, root / "model.h5")
        return root, tiny.write_config(root, source_keras_model=str(model) if model.is_dir() else "model.h5",
                                       **overrides)

    def converter_args(self, root: Path, converter: Path) -> list:
        return ["--imx500-converter", converter] if self.new else []

    def record(self, attack: str, outcome: str):
        self.rows.append((attack, outcome))
        print(f"| {attack} | {outcome} |", flush=True)

    @staticmethod
    def said(code, out, err, seconds) -> str:
        lines = [line for line in err.splitlines() if line.startswith("ERROR") or "Traceback" in line or
                 "Error" in line]
        if code is None:
            return err
        if "Traceback" in err:
            last = [line for line in err.splitlines() if line.strip()][-1]
            return f"exit {code}, traceback ({last[:100]})"
        return f"exit {code}" + (f": `{lines[0][:140]}`" if code in (2, 4) and lines else "") + f", {seconds:.0f} s"

    # --- models -------------------------------------------------------------------------------------------------

    def make_models(self):
        import tensorflow as tf

        folder = self.work / "models"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.model = tiny.write_model(folder / "tiny.h5")
        self.lambda_ran = self.work / "lambda-ran"
        code = eval(f"lambda t: (__import__('pathlib').Path({str(self.lambda_ran)!r}).touch(), t)[1]")
        inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
        x = tf.keras.layers.Lambda(code, name="touch")(inputs)
        x = tf.keras.layers.GlobalAveragePooling2D()(x)
        model = tf.keras.Model(inputs, tf.keras.layers.Dense(3, activation="softmax")(x))
        model.save(folder / "lambda.h5")
        model.save(folder / "lambda_savedmodel")
        shutil.copy(folder / "lambda.h5", folder / "polyglot.h5")
        hostile.append(folder / "polyglot.h5", hostile.keras_zip(hostile.model_config()))
        self.lambda_ran.unlink(missing_ok=True)
        return folder

    # --- configurations ------------------------------------------------------------------------------------------

    def converter_in_configuration(self):
        ran = self.work / "tool-ran"
        ran.unlink(missing_ok=True)
        root, config = self.project("converter", imx500={"converter": "./tool.sh"})
        hostile.program(root / "tool.sh", ran)
        result = self.vsq(root, "run", config, "--cache-dir", self.work / "cache")
        runs = len(ran.read_text().splitlines()) if ran.exists() else 0
        self.record("configuration names a converter (`./tool.sh`)",
                    f"{self.said(*result)}; tool.sh ran {runs} time(s)")

    def lambda_models(self, models: Path):
        for name, attack, overrides in (
                ("lambda.h5", "`\"allow_unsafe_model_code\": true` in the configuration, Lambda .h5",
                 {"allow_unsafe_model_code": True}),
                ("polyglot.h5", "Lambda .h5 with a zip appended (polyglot)", {}),
                ("lambda_savedmodel", "SavedModel with a Lambda layer", {})):
            self.lambda_ran.unlink(missing_ok=True)
            model = models / name
            root, config = self.project(name.split(".")[0], model=model, **overrides)
            result = self.vsq(root, "run", config, "--cache-dir", self.work / "cache")
            self.record(attack, f"{self.said(*result)}; the Lambda's code ran: {self.lambda_ran.exists()}")

    def guard_only(self):
        """What the guard says of hand-made files (no run: whether the model would be refused at prepare)."""
        cases = {
            "TFOpLambda calling `tf.io.write_file` (.h5)": lambda p: hostile.write_h5(
                p / "model.h5", hostile.model_config(hostile.tf_op("io.write_file"))),
            ".keras naming module `os`": lambda p: (p / "model.keras").write_bytes(hostile.keras_zip(
                hostile.model_config(hostile.layer("Dense", "dense", units=3, activation={
                    "module": "os", "class_name": "function", "config": "system", "registered_name": None})))),
            ".keras that is HDF5 with a Lambda": lambda p: hostile.write_h5(
                p / "model.keras", hostile.model_config(hostile.LAMBDA)),
            "SavedModel, Lambda only in saved_model.pb's legacy metadata": lambda p: hostile.write_saved_model(
                p / "saved", [hostile.LAMBDA], legacy=True),
        }
        for attack, make in cases.items():
            root = self.work / "guard"
            shutil.rmtree(root, ignore_errors=True)
            tiny.write_data(root)
            make(root)
            model = next(p for p in (root / "model.h5", root / "model.keras", root / "saved") if p.exists())
            config = tiny.write_config(root, source_keras_model=str(model))
            code = ("import sys; from vsq.pipeline.job import prepare\n"
                    "try:\n    prepare(sys.argv[1]); print('accepted')\n"
                    "except Exception as error:\n    print('refused:', str(error).split(': ', 2)[-1][:110])")
            done = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True,
                                  env=self.env, timeout=120, cwd=self.work)  # not this checkout's folder
            self.record(attack, f"at prepare: {done.stdout.strip() or done.stderr.strip()[-150:]}")

    # --- images -------------------------------------------------------------------------------------------------

    def images(self):
        decode = ("import resource, sys\nfrom vsq.configuration.preprocessing import Preprocessing\n"
                  "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
                  "try:\n    Preprocessing(16).decode(sys.argv[1]); said = 'decoded'\n"
                  "except Exception as error:\n    said = f'{type(error).__name__}: {str(error)[-80:]}'\n"
                  "print(said, '|', (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, 'MiB')")
        root = self.work / "images"
        shutil.rmtree(root, ignore_errors=True)
        bomb = hostile.pixel_bomb_png(root / "bomb.JPEG")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-W", "ignore", "-c", decode, str(bomb)], capture_output=True, text=True,
                              env=self.env, timeout=300, cwd=self.work)
        self.record(f"pixel bomb: {bomb.stat().st_size // 1024} KiB PNG of 13,000 x 13,000 pixels",
                    f"{done.stdout.strip()} in {time.perf_counter() - started:.1f} s")
        gs_ran = root / "gs-ran"
        hostile.program(root / "bin" / "gs", gs_ran)
        (root / "x.JPEG").write_bytes(hostile.EPS)
        done = subprocess.run([sys.executable, "-W", "ignore", "-c", decode, str(root / "x.JPEG")], capture_output=True,
                              text=True, env={**self.env, "PATH": f"{root / 'bin'}:{os.environ['PATH']}"}, timeout=300,
                              cwd=self.work)
        self.record("EPS file named .JPEG", f"{done.stdout.split('|')[0].strip()}; Ghostscript ran: {gs_ran.exists()}")
        root, config = self.project("fifo")
        os.mkfifo(root / "evaluate" / "images" / "red" / "red_99.JPEG")
        self.record("a FIFO among the evaluation images",
                    self.said(*self.vsq(root, "run", config, "--cache-dir", self.work / "cache", timeout=180)))

    # --- cache ----------------------------------------------------------------------------------------------------

    def cache(self):
        cache = self.work / "cache-poison"
        root, config = self.project("cached", mislabelled=3)
        shutil.rmtree(cache, ignore_errors=True)
        self.vsq(root, "run", config, "--cache-dir", cache)
        clean = json.loads((root / "results" / "results.json").read_text())["top_1_accuracy_tflite_quantized"]

        def entries(kind):
            return sorted(p for p in (cache / kind).iterdir() if not p.name.startswith("."))

        def manifest(entry, files):
            old = json.loads((entry / "manifest.json").read_text())
            old_style = isinstance(next(iter(old["files"].values()), ""), str)
            def listed(name):
                data = (entry / name).read_bytes() if (entry / name).is_file() else b""
                digest = hashlib.sha256(data).hexdigest()
                return digest if old_style else {"bytes": len(data), "sha256": digest}
            old["files"] = {name: listed(name) for name in files}
            (entry / "manifest.json").write_text(json.dumps(old))

        def forge_evaluations(with_manifest: bool):
            import numpy as np

            for entry in entries("evaluation"):
                with np.load(entry / "evaluation.npz") as arrays:
                    saved = {name: arrays[name] for name in arrays.files}
                saved["predictions"] = saved["labels"].copy()  # every image right: Top-1 1.0
                np.savez(entry / "evaluation.npz", **saved)
                if with_manifest:
                    manifest(entry, ["evaluation.npz", "evaluation.json"])

        def rerun(label, env=None):
            result = self.vsq(root, "run", config, "--cache-dir", cache, timeout=120, env=env)
            document = root / "results" / "results.json"
            top1 = json.loads(document.read_text())["top_1_accuracy_tflite_quantized"] if document.exists() else None
            refused = json.loads(document.read_text()).get("cache_refused", {}) if document.exists() else {}
            line = next((line for line in result[1].splitlines() if "was not used" in line), "")
            self.record(label, f"{self.said(*result)}; quantized Top-1 {top1} (clean run: {clean})"
                        + (f"; {len(refused)} entries rebuilt, e.g. `{line[:110]}`" if refused else ""))

        forge_evaluations(with_manifest=True)
        rerun("forged evaluation.npz, manifest recomputed (no cache key)")
        if self.new:
            shutil.rmtree(cache)
            self.vsq(root, "run", config, "--cache-dir", cache, env={"VSQ_CACHE_KEY": "nightly"})
            forge_evaluations(with_manifest=True)
            rerun("the same with VSQ_CACHE_KEY set", env={"VSQ_CACHE_KEY": "nightly"})
            rerun("the same run again (entries rebuilt and signed)", env={"VSQ_CACHE_KEY": "nightly"})
        shutil.rmtree(cache)
        self.vsq(root, "run", config, "--cache-dir", cache)
        forge_evaluations(with_manifest=False)
        for entry in entries("evaluation"):
            manifest(entry, [])
        rerun("forged evaluation.npz, empty manifest (files unlisted)")

        victim = self.work / "victim.tflite"
        victim.write_bytes(b"the victim's bytes")
        entry = next(e for e in entries("tflite") if (e / "model.tflite").exists())
        (entry / "model.tflite").unlink()
        os.symlink(victim, entry / "model.tflite")
        manifest(entry, ["model.tflite"])
        result = self.vsq(root, "run", config, "--cache-dir", cache, timeout=120)
        copied = (root / "output" / "model.tflite").read_bytes() == victim.read_bytes()
        self.record("cache entry's model.tflite replaced by a link (manifest matching its target)",
                    f"{self.said(*result)}; the link's target copied into output_dir: {copied}")

        entry = entries("model-info")[0]
        listed = json.loads((entry / "manifest.json").read_text())
        outside = self.work / "outside.json"
        outside.write_text((entry / "model_info.json").read_text())
        name = os.path.relpath(outside, entry)
        listed["files"][name] = next(iter(listed["files"].values()))
        (entry / "manifest.json").write_text(json.dumps(listed))
        result = self.vsq(root, "run", config, "--cache-dir", cache, timeout=120)
        how = json.loads((root / "results" / "results.json").read_text())["cache"].get("model interface")
        self.record("cache manifest naming `../../../outside.json` (its digest right)",
                    f"{self.said(*result)}; the entry was {'used' if how == 'hit' else 'rebuilt'}")

        entry = entries("model-info")[0]
        listed = json.loads((entry / "manifest.json").read_text())
        listed["files"]["/dev/zero"] = next(iter(listed["files"].values()))
        (entry / "manifest.json").write_text(json.dumps(listed))
        result = self.vsq(root, "run", config, "--cache-dir", cache, timeout=120)
        document = root / "results" / "results.json"
        how = json.loads(document.read_text())["cache"].get("model interface") if result[0] is not None else None
        self.record("cache manifest naming `/dev/zero`", self.said(*result) + (
            f"; the entry was {'used' if how == 'hit' else 'rebuilt'}" if how else ""))

    def imx500_cache(self):
        cache = self.work / "cache-imx500"
        shutil.rmtree(cache, ignore_errors=True)
        converter = hostile.fake_converter(self.work / "bin" / "imxconv-tf", tiny.SIZE)
        root, config = self.project("imx500", imx500={} if self.new else {"converter": str(converter)})
        args = ["run", config, "--cache-dir", cache, *self.converter_args(root, converter)]
        self.vsq(root, *args)
        secret = self.work / "secret.txt"
        secret.write_text("the reporting machine's secret")
        entry = next(p for p in (cache / "imx500").iterdir() if not p.name.startswith("."))
        stored = json.loads((entry / "result.json").read_text())
        stored["files"].append(os.path.relpath(secret, entry))
        (entry / "result.json").write_text(json.dumps(stored))
        listed = json.loads((entry / "manifest.json").read_text())
        data = (entry / "result.json").read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        listed["files"]["result.json"] = digest if isinstance(listed["files"]["result.json"], str) else \
            {"bytes": len(data), "sha256": digest}
        (entry / "manifest.json").write_text(json.dumps(listed))
        result = self.vsq(root, *args)
        leaked = [p.name for p in (root / "output" / "imx500").iterdir()] if (root / "output" / "imx500").is_dir() else []
        self.record("IMX500 cache entry's result.json naming a file outside the entry",
                    f"{self.said(*result)}; copied into output/imx500: {'secret.txt' in leaked}")

    # --- outputs --------------------------------------------------------------------------------------------------

    def links_in_outputs(self):
        converter = hostile.fake_converter(self.work / "bin" / "imxconv-tf", tiny.SIZE)
        root, config = self.project("links", variants=["tf_float16"], explanation={"when": "always"},
                                    imx500={} if self.new else {"converter": str(converter)})
        victims = self.work / "victims"
        shutil.rmtree(victims, ignore_errors=True)
        names = {"output": ["model.tflite", "model_quantized.tflite", "model_quantized.keras",
                            "model_tf_float16.tflite", "imx500_converter.log"],
                 "results": ["results.json", "history.jsonl", "baseline.previous.json", ".baseline.json.lock"]}
        kept = {}
        for folder, files in names.items():
            for name in files:
                target = victims / f"{folder}-{name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(f"the victim's {name}")
                kept[target] = target.read_text()
                hostile.link(root / folder / name, target)
        (root / "results" / "baseline.json").write_text(json.dumps({"format": 2, "configurations": {}}))
        result = self.vsq(root, "run", config, "--cache-dir", self.work / "cache-links",
                          "--baseline", root / "results" / "baseline.json", "--accept-baseline",
                          *self.converter_args(root, converter))
        changed = sorted(path.name.split("-", 1)[1] for path, text in kept.items() if path.read_text() != text)
        self.record("links planted at every file vsq writes in output_dir and evaluate_result_dir",
                    f"{self.said(*result)}; targets written through: {', '.join(changed) or 'none'}")

    # --- vsq report -----------------------------------------------------------------------------------------------

    def report(self):
        base = json.loads((HERE / "tests" / "data" / "results-format2.json").read_text())
        root = self.work / "report"
        shutil.rmtree(root, ignore_errors=True)
        secret = root / "secret" / "private.png"
        secret.parent.mkdir(parents=True)
        from PIL import Image

        Image.new("RGB", (30, 30), (200, 0, 0)).save(secret)
        bomb = hostile.pixel_bomb_png(root / "images" / "bomb.png")

        def forged(name, change):
            doc = json.loads(json.dumps(base))
            text = change(doc)
            path = root / name / "results.json"
            path.parent.mkdir(parents=True)
            path.write_text(text if isinstance(text, str) else json.dumps(doc), encoding="utf-8",
                            errors="surrogatepass")
            return path

        def run(name, change, check):
            path = forged(name, change)
            out = root / name / "out"
            code, stdout, stderr, seconds = self.vsq(root, "report", path, "--html", out / "r.html",
                                                     "--junit", out / "r.xml", timeout=300)
            page = (out / "r.html").read_text(errors="replace") if (out / "r.html").exists() else None
            junit = (out / "r.xml").read_bytes() if (out / "r.xml").exists() else None
            return self.said(code, stdout, stderr, seconds) + check(page, junit, stdout)

        def raw_script(page, junit, out):
            return f"; raw <script> in the HTML: {page.lower().count('<script') if page else 'no page'}"

        def well_formed(page, junit, out):
            import xml.etree.ElementTree as ET

            if junit is None:
                return "; no JUnit file"
            try:
                ET.fromstring(junit)
                ok = "well-formed"
            except ET.ParseError as error:
                ok = f"not well-formed XML ({error})"
            escapes = len(re.findall("[\x00-\x08\x0b-\x1f\x7f]", out))
            return f"; JUnit {ok}; control characters on the terminal: {escapes}"

        def charts(page, junit, out):
            return f"; charts in the HTML: {page.count('data:image/png') if page else 'no page'}"

        def nothing(page, junit, out):
            return ""

        def every_string(doc):
            def visit(value):
                if isinstance(value, dict):
                    return {key: visit(item) for key, item in value.items()}
                if isinstance(value, list):
                    return [visit(item) for item in value]
                return SCRIPT + value if isinstance(value, str) and value not in (
                    "PASS", "FAIL", "INCONCLUSIVE", "point", "confident", "ok", "fail", "pass") else value
            doc.clear()
            doc.update(visit(json.loads(json.dumps(base))))
            return doc

        def gallery(paths):
            def change(doc):
                rows = doc["models"]["tflite_quantized"]["flipped"]
                doc["models"]["tflite_quantized"]["flipped"] = [{**rows[0], "path": str(p)} for p in paths]
                return doc
            return change

        cases = [
            ("`num_images` as `<script>`", lambda d: d.update(num_images=SCRIPT), raw_script),
            ("explanation image counts as `<script>`",
             lambda d: d["explanation"]["images"].update(representative=SCRIPT), raw_script),
            ("every string field as `<script>`", every_string, raw_script),
            ("nesting 100,000 deep", lambda d: '{"a": ' * 100_000 + "1" + "}" * 100_000, nothing),
            ("`Infinity` as a Top-1", lambda d: json.dumps(d).replace(
                '"top_1_accuracy_keras": 0.8297872340425532', '"top_1_accuracy_keras": Infinity', 1), charts),
            ("a wrong type (`top_1_drop_points.tflite` a string)",
             lambda d: d["top_1_drop_points"].update(tflite="7"), nothing),
            ("a missing key (`models.tflite_quantized.paired.keras.interval_points`)",
             lambda d: d["models"]["tflite_quantized"]["paired"]["keras"].pop("interval_points"), nothing),
            ("control characters in names and messages", lambda d: (
                d["configuration"].update(name="full\x1b]0;pwned\x07\x1b[2J"),
                d["gate"]["failures"][0].update(message="lost\x1b[31m\x00\x0b")), well_formed),
            ("lone surrogates", lambda d: json.dumps(d).replace('"name": "full"', '"name": "full\\ud800"', 1),
             well_formed),
            ("`$` in class names", lambda d: (d.update(class_names=["$", "a$b", "$x"]), [
                m.update(per_class_top_1=dict(zip(["$", "a$b", "$x"], m["per_class_top_1"].values())))
                for m in d["models"].values()]), charts),
        ]
        for attack, change, check in cases:
            name = re.sub(r"\W+", "-", attack)[:40]
            self.record(f"`vsq report`: {attack}", run(name, change, check))
        for attack, paths, extra in (("gallery path outside the artifacts (`/…/secret/private.png`)", [secret], []),
                                     ("a pixel bomb in the gallery's folder, granted with --images", [bomb],
                                      ["--images", root / "images"] if self.new else [])):
            path = forged(re.sub(r"\W+", "-", attack)[:30], gallery(paths))
            out = path.parent / "out"
            code, stdout, stderr, seconds = self.vsq(root, "report", path, "--html", out / "r.html", *extra,
                                                     timeout=600)
            page = (out / "r.html").read_text() if (out / "r.html").exists() else ""
            self.record(f"`vsq report`: {attack}", self.said(code, stdout, stderr, seconds) +
                        f"; thumbnails embedded: {page.count('data:image/jpeg')}")

    def workflow(self):
        text = (self.repo / ".github" / "workflows" / "vsq.yml").read_text()
        uses = re.findall(r"uses: (\S+)", text)
        pinned = sum(bool(re.search(r"@[0-9a-f]{40}$", use)) for use in uses)
        pasted = text.count('--config "${{ matrix.config }}"')
        checkouts = text.count("actions/checkout@")
        self.record("workflow", f"{pinned} of {len(uses)} actions pinned by commit; persist-credentials: false on "
                    f"{text.count('persist-credentials: false')} of {checkouts} checkouts; "
                    f"matrix.config pasted into a script: {pasted} time(s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=HERE, help="the vsq checkout to attack. Default: this one")
    parser.add_argument("--work-dir", type=Path, required=True, help="where the hostile files go (emptied)")
    parser.add_argument("--only", nargs="+", metavar="GROUP", help=f"only these groups: {', '.join(GROUPS)}")
    args = parser.parse_args()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    args.work_dir.mkdir(parents=True)
    attacks = Attacks(args.repo.resolve(), args.work_dir.resolve())
    print(f"| attack ({args.repo}) | outcome |\n|---|---|", flush=True)
    models = attacks.make_models()
    for group in args.only or GROUPS:
        step = getattr(attacks, group)
        step(models) if group == "lambda_models" else step()
    return 0


GROUPS = ("converter_in_configuration", "lambda_models", "guard_only", "images", "cache", "imx500_cache",
          "links_in_outputs", "report", "workflow", *ROUND2)  # ROUND2: issue 31's, benchmarks/attacks_round2.py


if __name__ == "__main__":
    sys.exit(main())
