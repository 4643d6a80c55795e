#!/usr/bin/env bash
# Run the full test suite (core, GUI offscreen, crawler e2e with headless Chromium, tiny training runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen NO_ALBUMENTATIONS_UPDATE=1 HF_HUB_OFFLINE=1 SE_OFFLINE=true SE_AVOID_STATS=true
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export XDG_CONFIG_HOME="$(mktemp -d)"
.venv/bin/python -m ruff check augbench tests benchmarks
.venv/bin/python -m pytest -q "$@"
