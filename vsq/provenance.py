"""Provenance of a run: which commit, model, configuration and images the figures are of.

results.json's "provenance": the git commit (and whether tracked files differ from it) of the working folder's
repository when there is one; the SHA-256 of each model file (a folder: its files' names and contents, as the
cache digests it); the SHA-256 of the configuration file's bytes (a configuration given as a dict: of its
canonical JSON); and the SHA-256 of the sorted evaluation image list with sizes, the JSON text of
[[relative path, size in bytes], ...] with no spaces (json.dumps(rows, separators=(",", ":"))). The history
line, the HTML pages and JUnit XML carry the same facts (`flat`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from html import escape
from pathlib import Path

GIT_TIMEOUT_SECONDS = 10
COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")  # SHA-1 or SHA-256 object names
MODEL_KEYS = ("source_keras_model", "source_pytorch_model")


def of(job, folder: Path | None = None) -> dict:
    """The provenance of a job's run, from the working folder (or `folder`)."""
    from vsq.cache.store import file_digest

    config = job.config
    models = {key: {"path": str(getattr(config, key)), "sha256": file_digest(getattr(config, key))}
              for key in MODEL_KEYS if getattr(config, key, None) is not None}
    return {"git": git_state(Path(folder or os.getcwd())), "model_files": models,
            "configuration": configuration_digest(config),
            "evaluation_images": image_list_digest(job.evaluation_set.paths, config.evaluate_image_dir)}


def git_state(folder: Path) -> dict | None:
    """{"commit", "dirty"} of the repository holding folder, None outside one (or without git). Untracked files
    do not count as dirty (a run's own outputs usually are untracked). fsmonitor is off: a repository's
    configuration must not make `git status` run a program."""
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None or not COMMIT.fullmatch(commit):
        return None
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-c", "core.fsmonitor=false", *args], cwd=folder, capture_output=True,
                              text=True, timeout=GIT_TIMEOUT_SECONDS)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def run_facts(jobs, run_id: str, folder: Path) -> dict[str, str]:
    """A run's facts (JUnit <testsuite> properties): the stack's versions, the git commit of `folder` (the pytest
    rootdir), host, Python, the run id, and what each configuration's figures are of (`of`, flat)."""
    import platform

    from vsq.util import versions

    facts = {f"version_{name}": value for name, value in versions.stack().items() if value}
    facts["git_commit"] = _git(Path(folder), "rev-parse", "HEAD") or "none"
    facts["host"] = platform.node()
    facts["python"] = platform.python_version()
    facts["vsq_run_id"] = run_id
    for job in jobs:
        facts.update({f"{job.name}_{key}": value for key, value in flat(of(job)).items()})
    return facts


def configuration_digest(config) -> dict:
    file = Path(config.file)
    if file.suffix.lower() in (".json", ".yaml", ".yml") and file.is_file():  # vsq.run(dict)'s path has no suffix
        return {"file": str(file), "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}
    canonical = json.dumps(config.raw, sort_keys=True, separators=(",", ":"))
    return {"file": None, "sha256": hashlib.sha256(canonical.encode()).hexdigest()}


def image_list_digest(paths, root: Path) -> dict:
    rows = sorted([Path(path).relative_to(root).as_posix(), os.stat(path).st_size] for path in paths)
    text = json.dumps(rows, separators=(",", ":"))
    return {"count": len(rows), "total_bytes": sum(size for _, size in rows),
            "list_sha256": hashlib.sha256(text.encode()).hexdigest()}


def flat(provenance) -> dict[str, str]:
    """name -> text: the history line's, JUnit properties' and HTML table's form (empty for a document without
    provenance, or one whose provenance is not the shape vsq writes: results.json files are untrusted)."""
    if not isinstance(provenance, dict):
        return {}
    out = {}
    git = provenance.get("git")
    out["git_commit"] = str(git.get("commit")) if isinstance(git, dict) else "none"
    out["git_dirty"] = str(git.get("dirty")).lower() if isinstance(git, dict) else "none"
    models = provenance.get("model_files")
    for key, model in (models.items() if isinstance(models, dict) else ()):
        if isinstance(model, dict):
            out[f"{key}_sha256"] = str(model.get("sha256"))
    for name, part, field in (("configuration_sha256", "configuration", "sha256"),
                              ("evaluation_images_sha256", "evaluation_images", "list_sha256"),
                              ("evaluation_images_count", "evaluation_images", "count")):
        value = provenance.get(part)
        if isinstance(value, dict) and field in value:
            out[name] = str(value[field])
    return out


def html_section(documents: dict) -> str:
    """Each configuration's provenance and versions (its environment's), escaped: values of untrusted files."""
    rows = []
    for name, document in documents.items():
        environment = document.get("environment") if isinstance(document.get("environment"), dict) else {}
        versions = {key: value for key, value in environment.items() if isinstance(value, (str, int, float))}
        facts = {**flat(document.get("provenance")), **versions}
        rows += [f"<tr><td>{escape(str(name))}</td><td>{escape(str(key))}</td><td>{escape(str(value))}</td></tr>"
                 for key, value in facts.items()]
    if not rows:
        return ""
    return ('<h2>Provenance and versions</h2><table class="vsq-summary vsq-provenance"><thead><tr><th>configuration'
            f"</th><th>what</th><th>value</th></tr></thead><tbody>{''.join(rows)}</tbody></table>\n")
