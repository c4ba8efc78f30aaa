"""The attacks of issue 31 (hostile inputs, round 2), as groups of benchmarks/attacks.py: PyTorch builders and
their arguments, a look-alike package, secrets in messages, allocation bombs, a zip bomb, a malformed cache
signature, the converter's environment, a converter granted for the wrong framework, a hostile file name.

PyTorch attacks run `python -m vsq run` with this checkout's .venv-torch (torch, torchvision, timm) and the
attacked checkout first on PYTHONPATH, in the configuration's folder, as a nightly runs a pull request; the
allocation bombs under a 6 GB address-space limit (the issue's `ulimit -v 6000000`), with the child's peak RSS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
TORCH_PYTHON = HERE / ".venv-torch" / "bin" / "python"
# Runs a command under an address-space limit and prints its peak RSS (MiB) as the last line of stderr.
LIMITED = ("import resource, subprocess, sys\n"
           "limit = int(sys.argv[1])\n"
           "def cap():\n    resource.setrlimit(resource.RLIMIT_AS, (limit, limit)) if limit else None\n"
           "done = subprocess.run(sys.argv[2:], preexec_fn=cap, capture_output=True, text=True)\n"
           "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr)\n"
           "print(f'peak {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024}', file=sys.stderr)\n"
           "sys.exit(done.returncode)\n")
SAVE_STATE_DICT = ("import sys, torch\nm = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1, bias=False), "
                   "torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 3))\n"
                   "torch.save(m.state_dict(), sys.argv[1])\n")
LAYERS = [["Conv2d", 3, 3, 1, {"bias": False}], ["AdaptiveAvgPool2d", 1], ["Flatten"], ["Linear", 3, 3]]
SEQUENTIAL = "vsq.frameworks.pytorch.architecture:sequential"


class Round2:
    """Mixed into benchmarks.attacks.Attacks (self.repo, self.work, self.env, self.vsq, self.record, self.said)."""

    def torch_vsq(self, cwd, *args, env=None, limit=0, timeout=900):
        """`python -m vsq ...` in .venv-torch; (code, stdout, stderr, seconds, peak MiB)."""
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", LIMITED, str(limit), str(TORCH_PYTHON), "-m", "vsq",
                                   *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                                  env={**self.env, **(env or {})})
        except subprocess.TimeoutExpired:
            return None, "", f"timed out after {timeout} s", time.perf_counter() - started, None
        lines = done.stderr.splitlines()
        peak = int(lines[-1].split()[1]) if lines and lines[-1].startswith("peak ") else None
        return done.returncode, done.stdout, "\n".join(lines[:-1]), time.perf_counter() - started, peak

    def torch_project(self, name: str, **overrides) -> tuple[Path, Path]:
        import tiny

        root = self.work / name
        shutil.rmtree(root, ignore_errors=True)
        tiny.write_data(root)
        subprocess.run([str(TORCH_PYTHON), "-c", SAVE_STATE_DICT, str(root / "model.pt")], check=True, env=self.env)
        data = tiny.config_dict(source_keras_model=None, source_pytorch_model="model.pt", **{
            "pytorch_architecture": {"entry_point": SEQUENTIAL, "arguments": {"layers": LAYERS}}, **overrides})
        return root, tiny.write_config_dict(root, data)

    def torch_attack(self, attack: str, name: str, marker: Path | None = None, limit=0, env=None, **overrides):
        root, config = self.torch_project(name, **overrides)
        return root, config, self._torch_record(attack, root, config, marker, limit, env)

    def _torch_record(self, attack, root, config, marker=None, limit=0, env=None):
        code, out, err, seconds, peak = self.torch_vsq(root, "run", config, "--cache-dir", self.work / "cache-torch",
                                                      env=env, limit=limit)
        outcome = self.said(code, out, err, seconds) + (f", peak {peak} MiB" if peak else "")
        if marker is not None:
            outcome += f"; payload ran: {marker.exists()}"
        self.record(attack, outcome)
        return code, out, err

    # --- code without a grant (31.1-31.3) ---------------------------------------------------------------------

    def pytorch_builders(self):
        marker = self.work / "resolver-ran"
        root, config = self.torch_project("resolver")
        (root / "payload").mkdir()
        (root / "payload" / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nx = 1\n")
        data = json.loads(config.read_text())
        data["pytorch_architecture"] = {"entry_point": "vsq.frameworks.pytorch.architecture:resolve",
                                        "arguments": {"entry_point": "payload.evil:x", "base": "."}}
        config.write_text(json.dumps(data))
        self._torch_record("31.1 vsq's own `resolve` as the builder, `payload/evil.py` beside the configuration",
                           root, config, marker)

        marker = self.work / "torch-cache-ran"
        torch_home = self.work / "torch-home"
        planted = torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
        planted.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(TORCH_PYTHON), "-c", "import sys, torch\nclass P:\n    def __reduce__(self):\n"
                        "        return exec, (f'open({sys.argv[2]!r}, \"w\").write(\"x\")',)\n"
                        "torch.save(P(), sys.argv[1])\n", str(planted), str(marker)], check=True, env=self.env)
        self.torch_attack("31.3 torchvision `{\"weights\": \"IMAGENET1K_V1\"}`, a pickle planted in $TORCH_HOME",
                          "tv-weights", marker, env={"TORCH_HOME": str(torch_home)}, pytorch_architecture={
                              "entry_point": "torchvision.models:resnet18", "arguments": {"weights": "IMAGENET1K_V1"}})
        self.torch_attack("31.3 `torchvision.models:get_model` with `\"weights\": \"DEFAULT\"` (no network here)",
                          "tv-get-model", env={"TORCH_HOME": str(self.work / "empty-torch-home")}, pytorch_architecture={
                              "entry_point": "torchvision.models:get_model",
                              "arguments": {"name": "resnet18", "weights": "DEFAULT"}})
        for label, arguments in (("checkpoint_path", {"model_name": "resnet18", "checkpoint_path": str(planted)}),
                                 ("pretrained_cfg_overlay", {"model_name": "resnet18", "pretrained": True,
                                                             "pretrained_cfg_overlay": {"file": str(planted)}})):
            (self.work / "torch-cache-ran").unlink(missing_ok=True)
            self.torch_attack(f"31.3 `timm:create_model` with `{label}` naming that pickle", f"timm-{label}",
                              self.work / "torch-cache-ran", env={"HF_HUB_OFFLINE": "1"}, pytorch_architecture={
                                  "entry_point": "timm:create_model", "arguments": arguments})

    def look_alike(self):
        """31.2: `python -m vsq` in a folder holding `email.py` (imported by importlib.metadata); and a namespace
        `timm/` without __init__.py where timm is not installed (the main venv: the guard, then the import)."""
        marker = self.work / "email-ran"
        root, config = self.project("look-alike")
        (root / "email.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
        result = self.vsq(root, "run", config, "--cache-dir", self.work / "cache", timeout=300)
        self.record("31.2 `email.py` beside the configuration, `python -m vsq run` there",
                    f"{self.said(*result)}; payload ran: {marker.exists()}")
        marker = self.work / "namespace-ran"
        root = self.work / "namespace"
        shutil.rmtree(root, ignore_errors=True)
        (root / "timm").mkdir(parents=True)
        (root / "timm" / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n"
                                               "def build(**kwargs):\n    raise SystemExit('x')\n")
        code = ("import sys\ntry:\n    from vsq.frameworks.pytorch.builders import needs_grant\nexcept ImportError:\n"
                "    from vsq.frameworks.pytorch.architecture import needs_grant\n"
                "from vsq.frameworks.pytorch.architecture import resolve\n"
                "why = needs_grant('timm.evil:build')\nprint('refused:', why) if why else resolve('timm.evil:build', "
                "None)\n")
        done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                              env={**self.env, "PYTHONPATH": f"{self.repo}{os.pathsep}{root}"}, timeout=120)
        said = (done.stdout.strip() or (done.stderr.strip().splitlines() or [""])[-1])[:150]
        self.record("31.2 `timm/evil.py` (no __init__.py), `timm.evil:build`, timm not installed (guard, then import)",
                    f"{said}; payload ran: {marker.exists()}")

    # --- secrets and resources (31.4-31.6) ----------------------------------------------------------------------

    def secrets(self):
        secret = self.work / "home" / ".docker" / "config.json"
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text(json.dumps({"auths": {"ghcr.io": {"auth": "dXNlcjpnaHBfU0VDUkVU"}}}))
        root, config = self.project("secret-labels", evaluate_label_file=str(secret))
        result = self.vsq(root, "run", config, "--cache-dir", self.work / "cache", timeout=300)
        self.record("31.4 `\"evaluate_label_file\": \"~/.docker/config.json\"`",
                    f"{self.said(*result)}; the credential in the log: {'dXNlcjpn' in result[1] + result[2]}")

    def allocation_bombs(self):
        limit = 6_000_000 * 1024
        for attack, overrides in (
                ("31.5 `[\"Linear\", 60000, 60000]` in `sequential` (14.4 GB), tiny weights",
                 {"pytorch_architecture": {"entry_point": SEQUENTIAL,
                                           "arguments": {"layers": [*LAYERS[:3], ["Linear", 60000, 60000]]}}}),
                ("31.5 `torchvision.models:mobilenet_v2` with `num_classes: 3000000` (15.4 GB)",
                 {"pytorch_architecture": {"entry_point": "torchvision.models:mobilenet_v2",
                                           "arguments": {"num_classes": 3000000}}}),
                ("31.5 `input_tensor_size: 40000` (19.2 GB in describe)", {"input_tensor_size": 40000})):
            self.torch_attack(attack + ", under a 6 GB address-space limit", "bomb", limit=limit, **overrides)
        root, config = self.torch_project("zip-bomb")
        code = ("import sys, torch, zipfile\nstate = torch.load(sys.argv[1], weights_only=True)\n"
                "state['zeros'] = torch.zeros(128 << 20)\ntorch.save(state, sys.argv[2])\n"
                "with zipfile.ZipFile(sys.argv[2]) as a, zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as b:\n"
                "    [b.writestr(e.filename, a.read(e)) for e in a.infolist()]\n")
        subprocess.run([str(TORCH_PYTHON), "-c", code, str(root / "model.pt"), str(self.work / "stored.pt")],
                       check=True, env=self.env)
        (self.work / "stored.pt").unlink()
        size = (root / "model.pt").stat().st_size
        self._torch_record(f"31.6 a {size // 1024} KB `.pt`: 512 MB of zeros deflated", root, config, limit=limit)

    # --- the cache, the converter (31.7-31.9) -------------------------------------------------------------------

    def signed_cache(self):
        import hostile

        cache, key = self.work / "cache-signed", {"VSQ_CACHE_KEY": "nightly"}
        converter = hostile.fake_converter(self.work / "bin-env" / "imxconv-tf", 16)
        seen = self.work / "converter-env.txt"
        converter.write_text(converter.read_text().replace("#!/bin/sh\n", f"#!/bin/sh\nenv > {seen}\n", 1))
        root, config = self.project("signed", imx500={} if self.new else {"converter": str(converter)})
        args = ["run", config, "--cache-dir", cache, *self.converter_args(root, converter)]
        result = self.vsq(root, *args, env=key)
        self.record("31.8 what a converter vsq runs receives (`VSQ_CACHE_KEY` set)",
                    f"{self.said(*result)}; VSQ_CACHE_KEY in its environment: "
                    f"{'VSQ_CACHE_KEY' in seen.read_text() if seen.exists() else 'not run'}; variables: "
                    f"{len(seen.read_text().splitlines()) if seen.exists() else 0} (of {len(os.environ) + 2})")
        for manifest in cache.glob("*/*/manifest.json"):
            data = json.loads(manifest.read_text())
            manifest.write_text(json.dumps({**data, "signature": "\u00e9" * 64}))
        result = self.vsq(root, *args, env=key)
        document = root / "results" / "results.json"
        refused = json.loads(document.read_text()).get("cache_refused", {}) if result[0] is not None and \
            document.exists() and result[0] in (0, 1) else {}
        self.record("31.7 every manifest's signature `\"ééé…\"` with VSQ_CACHE_KEY set",
                    f"{self.said(*result)}; entries rebuilt: {len(refused)}")

    def converter_framework(self):
        import hostile

        ran = self.work / "tf-ran.txt"
        ran.unlink(missing_ok=True)
        converter = hostile.fake_converter(self.work / "bin-tf" / "imxconv-tf", 16)
        converter.write_text(converter.read_text().replace("#!/bin/sh\n", f"#!/bin/sh\necho \"$@\" >> {ran}\n", 1))
        root, config = self.torch_project("wrong-converter", imx500={})
        code, out, err, seconds, _ = self.torch_vsq(root, "run", config, "--cache-dir", self.work / "cache-torch",
                                                    env={"VSQ_IMX500_CONVERTER": str(converter)})
        self.record("31.9 a PyTorch configuration, `VSQ_IMX500_CONVERTER=.../imxconv-tf`",
                    f"{self.said(code, out, err, seconds)}; imxconv-tf ran on an .onnx file: "
                    f"{'.onnx' in ran.read_text() if ran.exists() else False}")

    def file_name(self):
        import xml.etree.ElementTree as ET

        import tiny

        root = self.work / "file-name"
        shutil.rmtree(root, ignore_errors=True)
        tiny.write_data(root)
        shutil.copy(self.model, root / "model.h5")
        config = tiny.write_config(root, "cfg\x1b[2J\x01<b>x.json")
        result = self.vsq(root, "run", config, "--cache-dir", self.work / "cache", "--junit", root / "junit.xml",
                          timeout=600)
        controls = sum(result[1].count(c) + result[2].count(c) for c in "\x1b\x01")
        try:
            ET.parse(root / "junit.xml")
            junit = "well-formed" if (root / "junit.xml").exists() else "none"
        except (ET.ParseError, FileNotFoundError) as error:
            junit = "none" if isinstance(error, FileNotFoundError) else "not well-formed XML"
        self.record("31.10 configuration file `cfg\\x1b[2J\\x01<b>x.json` (no \"name\"), `--junit`",
                    f"{self.said(*result)}; control characters on the terminal: {controls}; JUnit: {junit}")


GROUPS = ("pytorch_builders", "look_alike", "secrets", "allocation_bombs", "signed_cache", "converter_framework",
          "file_name")
