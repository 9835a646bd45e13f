#!/usr/bin/env bash
# Set up a tested pvt_mm stack on a CPU machine (Python 3.11), into the active Python (use a fresh
# virtual environment): torch, mmengine, mmcv with its compiled ops, mmdet, mmsegmentation, pvt_mm,
# OpenMMLab's mim and the test dependencies.
#   bash tools/install.sh          the pinned stack, requirements/pinned.txt (torch 2.13.0)
#   bash tools/install.sh oldest   the oldest supported stack, requirements/oldest.txt (torch
#                                  2.1.2, numpy 1.23.5; torch is a CUDA build of ~2.5 GB)
#
# mmcv has no wheels on PyPI, so it is built from source unless a wheelhouse holds a matching
# prebuilt wheel for that torch ($PVT_MM_WHEELHOUSE/torch<version>/ or $PVT_MM_WHEELHOUSE/, with
# ../shared/wheels next to the repo as the default wheelhouse): about 25 minutes
# of CPU time, 14 minutes on 2 cores with an empty pip cache (README, "Setup and tests"). pip
# caches the wheel it builds, so a second environment installs in about 2 minutes.
# Environment: PYTHON (interpreter, default python3), PVT_MM_WHEELHOUSE, MAX_JOBS (parallel build
# jobs, default: all cores), CXX (compiler, default c++), PVT_MM_EDITABLE=1 (install pvt_mm
# editable, to work on it; `mim search` cannot see an editable install).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${1:-pinned}"
case "$STACK" in
  pinned|oldest) ;;
  *) echo "[install] error: unknown stack '$STACK'; use 'pinned' (default) or 'oldest'" >&2
     exit 2 ;;
esac
STACK_FILE="$ROOT/requirements/$STACK.txt"
TORCH_VERSION="$(sed -n 's/^torch==\([0-9.]*\).*/\1/p' "$STACK_FILE")"
PY="${PYTHON:-python3}"
PIP=("$PY" -m pip install --disable-pip-version-check)
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"

echo "[install] the $STACK stack (torch $TORCH_VERSION) into" \
  "$("$PY" -c 'import sys; print(sys.prefix)') ($("$PY" --version))"
WHEELHOUSE="${PVT_MM_WHEELHOUSE:-$ROOT/../shared/wheels}"
FIND_LINKS=()
for dir in "$WHEELHOUSE/torch$TORCH_VERSION" "$WHEELHOUSE"; do
  if compgen -G "$dir/mmcv-2.1.0-*.whl" > /dev/null; then
    FIND_LINKS=(--find-links "$dir")
    echo "[install] wheelhouse: $dir"
    break
  fi
done
if [ ${#FIND_LINKS[@]} -eq 0 ] && ! "$PY" -c 'from mmcv.ops import nms' 2> /dev/null; then
  # mmcv will be built from source: stop now, not after installing torch, if that cannot work.
  echo "[install] no mmcv wheel in $WHEELHOUSE: mmcv 2.1.0 will be built from source"
  if ! command -v "${CXX:-c++}" > /dev/null && ! command -v g++ > /dev/null; then
    echo "[install] error: building mmcv needs a C++ compiler, and none was found (\$CXX, c++," \
      "g++). Install one (Debian/Ubuntu: apt install g++) or point PVT_MM_WHEELHOUSE at a" \
      "folder holding a prebuilt mmcv-2.1.0 wheel for this Python and torch." >&2
    exit 1
  fi
  if ! "$PY" -c 'import os, sys, sysconfig
sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    echo "[install] error: building mmcv needs Python's headers (Python.h), and $PY has none." \
      "Install them (Debian/Ubuntu: apt install python3-dev) or use a wheelhouse." >&2
    exit 1
  fi
fi

# 1. What building mmcv needs, and torch itself (torch 2.13.0: the CPU wheel; torch 2.1.2: PyPI's
#    CUDA build, which runs on the CPU too; see docs/installation.md for GPU users).
"${PIP[@]}" -c "$STACK_FILE" -r "$ROOT/requirements/build.txt" torch

# 2. The stack, pvt_mm and the test dependencies. No build isolation, so mmcv's setup.py sees
#    the installed torch. pvt_mm is a regular install (its configs and model index in
#    site-packages, where mmengine and mim look) unless PVT_MM_EDITABLE=1.
EDITABLE=()
if [ "${PVT_MM_EDITABLE:-0}" = 1 ]; then EDITABLE=(-e); fi
"${PIP[@]}" --no-build-isolation "${FIND_LINKS[@]}" \
  -r "$STACK_FILE" -r "$ROOT/requirements/tests.txt" "${EDITABLE[@]}" "$ROOT"

# 3. OpenMMLab's mim (`mim search pvt_mm`), without its dependencies: they include opendatalab,
#    which pins setuptools below what torch 2.13 requires, and `mim search` does not use it; the
#    others are in requirements/tests.txt.
"${PIP[@]}" --no-deps openmim

# 4. mmcv's compiled ops must load against this torch; a wheel built for another one would not.
check_ops='import torch; from mmcv.ops import nms, roi_align;
nms(torch.rand(4, 4) * 10, torch.rand(4), 0.5)'
if ! "$PY" -c "$check_ops"; then
  echo "[install] mmcv ops do not load: rebuilding mmcv 2.1.0 from source"
  "${PIP[@]}" --no-build-isolation --no-binary mmcv --no-cache-dir --force-reinstall --no-deps \
    -c "$STACK_FILE" mmcv
  "$PY" -c "$check_ops"
fi
"$PY" -c "import pvt_mm, mmcv, mmdet, mmseg, torch; print('[install] ok: torch', torch.__version__,
'mmcv', mmcv.__version__, 'mmdet', mmdet.__version__, 'mmseg', mmseg.__version__)"
