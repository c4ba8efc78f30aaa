#!/usr/bin/env bash
# What the project's own tests need besides vsq's venv, each installed only when missing:
#
#     bash scripts/setup_tests.sh
#
# - Debian's chromium: the HTML reports are rendered in a real headless browser;
# - Sony's IMX500 converter in its own venv, with Java 17 (scripts/setup_imx500.sh): its tests convert for real;
# - the PyTorch environment (scripts/setup_pytorch.sh): the PyTorch tests run the suites there.
# Idempotent: on a machine that has them it installs nothing. Environment: CHROMIUM (default chromium),
# the browser command the tests look for.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then
    echo "Installing Debian's chromium (the tests render the HTML reports in it)"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi

bash "$ROOT/scripts/setup_imx500.sh"
bash "$ROOT/scripts/setup_pytorch.sh"
