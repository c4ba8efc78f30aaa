#!/usr/bin/env bash
# The PyTorch environment, .venv-torch at the repository root: vsq for PyTorch models (torch, torchvision,
# MCT, ONNX Runtime with mct-quantizers' operators), without TensorFlow.
#
#     bash scripts/setup_pytorch.sh
#
# Its own venv: MCT 2.6.1 imports torch and torchvision whenever torch is installed, which would slow every
# Keras run of the main venv; and the torch MCT can use here (2.14.1 with torchvision 0.29.1) is the CUDA
# build, about 6 GB (requirements-pytorch.in says why). PyTorch configurations run with .venv-torch/bin/pytest.
# Idempotent: a second run with a working environment does nothing. Environment: PYTHON (default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-torch"
PYTHON="${PYTHON:-python3}"

if "$VENV/bin/python" -c "import torch, torchvision, onnxruntime, onnxruntime_extensions, model_compression_toolkit, vsq" \
        >/dev/null 2>&1; then
    echo "PyTorch environment already installed: $VENV"
    exit 0
fi

echo "Installing the PyTorch environment into $VENV (about 3 minutes, 6 GB)"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements-pytorch.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT"
"$VENV/bin/python" -c "import torch, torchvision, onnxruntime_extensions, model_compression_toolkit, vsq"
echo "PyTorch environment installed: $VENV"
