#!/usr/bin/env bash
# The PyTorch environment, .venv-torch at the repository root: vsq for PyTorch models (torch, torchvision,
# MCT, ONNX Runtime with mct-quantizers' operators), without TensorFlow.
#
#     bash scripts/setup_pytorch.sh
#
# Its own venv: MCT 2.6.1 imports torch and torchvision whenever torch is installed, which would slow every
# Keras run of the main venv; and the torch MCT 2.6.1 is tested with (2.6.0, torchvision 0.21.0) is the CUDA
# build, about 6 GB (requirements-pytorch.in says why). PyTorch configurations run with .venv-torch/bin/pytest.
# Idempotent: a second run with a working environment made from the same requirements-pytorch.txt does nothing;
# after a change of the pins it makes the environment again. Environment: PYTHON (default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-torch"
PYTHON="${PYTHON:-python3}"

MADE_FROM="$VENV/requirements-pytorch.txt"  # the pins it was made from: another set makes it again
if cmp -s "$ROOT/requirements-pytorch.txt" "$MADE_FROM" &&
        "$VENV/bin/python" -c "import torch, torchvision, onnxruntime, onnxruntime_extensions, model_compression_toolkit, vsq" \
        >/dev/null 2>&1; then
    echo "PyTorch environment already installed: $VENV"
    exit 0
fi

if [ -e "$VENV" ]; then
    echo "Removing $VENV (made from other pins, or broken)"
    rm -rf "$VENV"
fi
echo "Installing the PyTorch environment into $VENV (about 3 minutes, 6 GB)"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements-pytorch.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT"
"$VENV/bin/python" -c "import torch, torchvision, onnxruntime_extensions, model_compression_toolkit, vsq"
cp "$ROOT/requirements-pytorch.txt" "$MADE_FROM"
echo "PyTorch environment installed: $VENV"
