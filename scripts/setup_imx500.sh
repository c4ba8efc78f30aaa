#!/usr/bin/env bash
# Install Sony's IMX500 converter in its own venv, .venv-imx500 at the repository root.
#
#     bash scripts/setup_imx500.sh
#
# It cannot share vsq's venv: uni-tensorflow pins mct-quantizers~=1.6.0, MCT 2.6.1 needs ~=1.7.0.
# The converter runs on Java 17+; Debian's openjdk-17-jre-headless is installed only when missing.
# Idempotent: a second run with a working converter and Java does nothing.
# Environment: PYTHON (default python3) makes the venv.
set -euo pipefail

CONVERTER_PACKAGE="imx500-converter[tf,pt]==3.19.2"  # imxconv-tf (Keras) and imxconv-pt (ONNX)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-imx500"
PYTHON="${PYTHON:-python3}"

java_major() {  # 17 for 'openjdk version "17.0.15"', 8 for '"1.8.0_392"', empty without java
    command -v java >/dev/null 2>&1 || return 0
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\.\{0,1\}\([0-9]*\).*/\1 \2/p' | head -n 1 |
        awk '{ print ($1 == 1 ? $2 : $1) }'
}

major="$(java_major)"
if [ -z "$major" ] || [ "$major" -lt 17 ]; then
    echo "Installing Java 17 (openjdk-17-jre-headless; found: ${major:-no java})"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jre-headless
fi

if "$VENV/bin/imxconv-tf" --help >/dev/null 2>&1 && "$VENV/bin/imxconv-pt" --help >/dev/null 2>&1; then
    echo "IMX500 converter already installed: $VENV/bin/imxconv-tf, $VENV/bin/imxconv-pt"
    exit 0
fi

echo "Installing $CONVERTER_PACKAGE into $VENV (about 2 minutes, 1.9 GB)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"  # an earlier [tf] install gains [pt] in place
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "$CONVERTER_PACKAGE"
"$VENV/bin/imxconv-tf" --help >/dev/null  # fail here, not in the tests, when the install is broken
"$VENV/bin/imxconv-pt" --help >/dev/null
echo "IMX500 converter installed: $VENV/bin/imxconv-tf, $VENV/bin/imxconv-pt"
