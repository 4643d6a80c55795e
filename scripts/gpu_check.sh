#!/usr/bin/env bash
# Check augbench's CUDA paths on the first machine with a GPU (< 5 minutes): CycleGAN + ResNet-50 images/s.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_ALBUMENTATIONS_UPDATE=1 HF_HUB_OFFLINE=1
PY=.venv/bin/python; [ -x "$PY" ] || PY=python3
exec "$PY" scripts/gpu_check.py "$@"
