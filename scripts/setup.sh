#!/usr/bin/env bash
# Install everything augbench needs on a fresh Debian machine:
# system packages (Chromium + driver for the crawler, Xvfb/xcb for a real Qt
# window, fonts with Hangul, OpenCV's sample photos) and a virtualenv in .venv
# with the pinned Python dependencies and augbench itself (editable).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
APT_PKGS="chromium chromium-driver xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxkbcommon-x11-0 libx11-xcb1 libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libglib2.0-0 libgl1 libegl1 libfontconfig1 libdbus-1-3 fonts-noto-cjk opencv-doc"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "[setup] apt-get install:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
fi
export NO_ALBUMENTATIONS_UPDATE=1
.venv/bin/python -m pip install -q --upgrade pip wheel
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -m pip install -q --no-deps -e .
# opencv-python (non-headless) points Qt at its own plugins and breaks a real window: never allow it.
if .venv/bin/python -m pip show opencv-python >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall -y -q opencv-python
  .venv/bin/python -m pip install -q --force-reinstall --no-deps "opencv-python-headless>=4.9,<5"
fi
echo "[setup] done: .venv/bin/augbench and .venv/bin/augbench-gui are installed"
