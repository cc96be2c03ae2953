#!/usr/bin/env bash
# Everything GPU-worthy in one call of the device tool (≈ 12 min on an H200). Run from the
# repository root with the shared data copied to gpu-data/ (vgg/, styles/, content/, reference/,
# ignored via .git/info/exclude and named in the tool's carry list). Results land in $OUT.
#   1. the CUDA tests;  2. the base model: continue build/base-model on the GPU for 9 minutes;
#   3. export the base and the gallery;  4. the quality and time-to-quality benchmarks on cuda.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
DATA=${DATA:-gpu-data}
export STYLESTUDIO_SHARED_DATA="$(cd "$DATA" && pwd)" STYLESTUDIO_OFFLINE=1 QT_QPA_PLATFORM=offscreen
mkdir -p "$OUT"
python -m venv .venv-gpu && .venv-gpu/bin/pip install -q -e ".[dev,bench]" > "$OUT/pip.log" 2>&1
PY=.venv-gpu/bin/python
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
$PY -m pytest -q -k "cuda or gpu" tests > "$OUT/cuda-tests.txt" 2>&1
cp -r build/base-model "$OUT/base-model"
timeout 600 $PY -m stylestudio.tools.train_base --data "$DATA" --state "$OUT/base-model" \
  --device cuda --steps 200000 --time-limit 540 --checkpoint-every 500 > "$OUT/train-base.log" 2>&1
$PY -m stylestudio.tools.export_gallery --data "$DATA" --state "$OUT/base-model" \
  --base-out "$OUT/base" --out "$OUT/gallery" > "$OUT/export.log" 2>&1
$PY -m stylestudio bench time-to-quality van-gogh-wheat-field-with-cypresses --device cuda \
  --paths quick,balanced,legacy-quick --marks 5,10,20,60 --out "$OUT/ttq" > "$OUT/ttq.log" 2>&1
echo done > "$OUT/done"
