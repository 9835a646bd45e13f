#!/usr/bin/env bash
# The whole GPU check in one run on a bare GPU machine with torch (CUDA) installed and no network:
# the stack from a wheelhouse, mmcv's CUDA ops built there, the CUDA tests, then the measurements
# that set the GPU defaults of the backbone's speed options (docs/benchmark.md, "On a GPU").
#
#   bash tools/gpu_check.sh WHEELHOUSE [OUT_DIR]
#
# WHEELHOUSE: wheels of what the machine lacks (mmengine, mmdet, mmsegmentation and their pure-
# Python dependencies, pycocotools, shapely, timm, transformers, safetensors, pytest, hotcoco) and
# mmcv's source, mmcv-2.1.0.tar.gz (`pip download --no-deps --no-binary :all: mmcv==2.1.0`).
# Building mmcv's CUDA ops takes most of the run (4 min 20 s on 16 cores for one architecture).
# Everything is printed and kept in OUT_DIR/gpu_check.log (default: ./gpu_check).
#
# What it measures (PVTv2-b2, 800x1333, batch 2, fp32 and AMP fp16; step time and peak memory):
# pvt_mm as it is, each speed option changed alone (attention query groups 4, 8 and 16; each
# attention kernel the precision can run; each FFN recompute mode; torch.compile), mmdet's PVTv2,
# timm's, transformers' and the official formulation; torch.profiler's top kernels of pvt_mm and of
# the fastest peer; whole RetinaNet and Mask R-CNN training steps against the same configs on
# mmdet's PVTv2, in both precisions.
set -euo pipefail
WHEELHOUSE="${1:?usage: bash tools/gpu_check.sh WHEELHOUSE [OUT_DIR]}"
OUT="${2:-gpu_check}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
cd "$ROOT"
step() { echo; echo "[gpu_check] $(date +%T) $*"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader
"$PY" -c 'import sys, torch; print(sys.version.split()[0], torch.__version__, torch.version.cuda,
torch.backends.cudnn.version(), torch.cuda.get_device_name())'

step "the stack from $WHEELHOUSE, mmcv built with CUDA ops"
PIP=("$PY" -m pip install --disable-pip-version-check --no-index --find-links "$WHEELHOUSE")
"${PIP[@]}" "mmengine==0.10.7" "mmdet==3.3.0" "mmsegmentation==1.2.2" ftfy regex pycocotools \
  shapely timm transformers safetensors pytest pytest-xdist hotcoco ninja wheel "setuptools<81"
ARCH="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1)"
MAX_JOBS="$(nproc)" FORCE_CUDA=1 MMCV_WITH_OPS=1 TORCH_CUDA_ARCH_LIST="$ARCH" \
  "${PIP[@]}" --no-build-isolation "mmcv==2.1.0"
"${PIP[@]}" --no-deps -e .
"$PY" -c 'import torch; from mmcv.ops import nms; x = torch.rand(8, 4, device="cuda") * 10
print("mmcv nms on CUDA:", nms(x, torch.rand(8, device="cuda"), 0.5)[1].numel(), "boxes kept")'

step "CUDA tests"
"$PY" -m pytest tests/test_cuda.py -q -p no:cacheprovider

BENCH=("$PY" tools/analysis_tools/benchmark.py)
COMMON=(--compare --archs pvtv2-b2 --shapes 800x1333 --batch 2 --device cuda --steps 10)
step "backbone, fp32: one option changed at a time, and the peers"
"${BENCH[@]}" "${COMMON[@]}" --profile --impls pvt_mm \
  "pvt_mm[attn_query_groups=4]" "pvt_mm[attn_query_groups=8]" "pvt_mm[attn_query_groups=16]" \
  "pvt_mm[attn_backend=efficient]" "pvt_mm[attn_backend=math]" "pvt_mm[attn_backend=explicit]" \
  "pvt_mm[ffn_recompute=gelu]" "pvt_mm[ffn_recompute=none]" "pvt_mm[compile]" \
  mmdet timm transformers reference
step "backbone, AMP fp16"
"${BENCH[@]}" "${COMMON[@]}" --amp --profile --impls pvt_mm \
  "pvt_mm[attn_query_groups=4]" "pvt_mm[attn_query_groups=8]" "pvt_mm[attn_query_groups=16]" \
  "pvt_mm[attn_backend=flash]" "pvt_mm[attn_backend=efficient]" "pvt_mm[attn_backend=cudnn]" \
  "pvt_mm[attn_backend=math]" "pvt_mm[attn_backend=explicit]" "pvt_mm[ffn_recompute=gelu]" "pvt_mm[ffn_recompute=none]" \
  "pvt_mm[compile]" mmdet timm transformers reference

for config in configs/pvtv2/retinanet_pvtv2-b2_fpn_1x_coco.py \
    configs/pvtv2/mask-rcnn_pvtv2-b2_fpn_1x_coco.py; do
  for amp in "" --amp; do
    step "whole model ${amp:-fp32}: $config"
    "${BENCH[@]}" "$config" --compare --batch 2 --steps 5 --device cuda $amp
  done
done
step "done: $OUT/gpu_check.log"
