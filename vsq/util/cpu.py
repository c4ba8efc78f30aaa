"""The host CPU's facts that change INT8 figures: its model name and the instruction-set flags integer and
bfloat16 kernels choose between (results.json `environment.cpu`), and whether it has VNNI (ONNX Runtime's
quantize_static advice: reduce_range=True on x86-64 without VNNI, where its int8 kernels can saturate)."""

from __future__ import annotations

import platform
from functools import lru_cache
from pathlib import Path

# Flags that change which kernels run and so the numbers they give (Linux /proc/cpuinfo names).
NUMERICS_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
VNNI_FLAGS = ("avx512_vnni", "avx_vnni")
X86 = ("x86_64", "amd64", "i386", "i686")


def describe_cpu(cpuinfo: str, machine: str) -> dict:
    """{"model": ..., "architecture": machine, "flags": the NUMERICS_FLAGS it has} from /proc/cpuinfo's text
    (empty on systems without it: model None, flags [])."""
    model, flags = None, set()
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "model name" and model is None:
            model = value.strip()[:100] or None
        elif name == "flags" and not flags:
            flags = set(value.split())
    return {"model": model, "architecture": machine, "flags": [flag for flag in NUMERICS_FLAGS if flag in flags]}


@lru_cache(maxsize=1)
def host_cpu() -> dict:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    return describe_cpu(text, platform.machine().lower())


def instruction_set() -> dict:
    """What a model's outputs on this host depend on besides its file: the kernels' instruction set (INT8 kernels
    give other scores with and without VNNI), not the CPU's name (part of cache keys)."""
    cpu = host_cpu()
    return {"architecture": cpu["architecture"], "flags": cpu["flags"]}


def needs_reduced_range(cpu: dict) -> bool:
    """ONNX Runtime's guidance for quantize_static: reduce_range=True on x86-64 CPUs without VNNI."""
    return cpu["architecture"] in X86 and not any(flag in cpu["flags"] for flag in VNNI_FLAGS)
