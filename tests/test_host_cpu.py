"""The host CPU: recorded in results.json (model name, numerics-relevant instruction-set flags), and ONNX Runtime's
quantize_static run as its documentation advises for it (reduce_range=True on x86-64 without VNNI)."""

import pytest

from vsq.util.cpu import describe_cpu, host_cpu, needs_reduced_range

AVX2_ONLY = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n\nprocessor\t: 1\n"
VNNI = "model name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: avx2 avx512f avx512_vnni avx512_bf16 amx_tile amx_int8"


@pytest.mark.parametrize("cpuinfo, machine, flags, reduced", [
    (AVX2_ONLY, "x86_64", ["avx2"], True),
    (VNNI, "x86_64", ["avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8"], False),
    ("flags\t: avx2 avx_vnni", "x86_64", ["avx2", "avx_vnni"], False),
    ("Features\t: fp asimd", "aarch64", [], False),  # the advice is for x86-64's int8 kernels
    ("", "x86_64", [], True),
])
def test_the_flags_that_change_numerics_decide_reduce_range(cpuinfo, machine, flags, reduced):
    cpu = describe_cpu(cpuinfo, machine)
    assert cpu["flags"] == flags and needs_reduced_range(cpu) is reduced


def test_this_host_is_described_from_proc_cpuinfo():
    from pathlib import Path

    cpu, text = host_cpu(), Path("/proc/cpuinfo").read_text()
    assert cpu["model"] and cpu["model"] in text
    assert all(f" {flag}" in text for flag in cpu["flags"])


def test_the_onnx_int8_file_has_7_bit_weights_exactly_where_the_host_needs_them(runtime_files):
    """quantize_static's symmetric per-channel int8 weights reach +-127 in some channel; with reduce_range +-64."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(runtime_files["onnxruntime_int8"]))
    weights = [numpy_helper.to_array(t) for t in model.graph.initializer
               if t.data_type == onnx.TensorProto.INT8 and t.name.endswith("_quantized")]  # not zero points
    assert weights
    largest = max(int(np.abs(w.astype(np.int32)).max()) for w in weights)
    assert largest <= 64 if needs_reduced_range(host_cpu()) else largest == 127, largest
