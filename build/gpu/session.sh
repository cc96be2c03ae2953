#!/usr/bin/env bash
# Everything GPU-worthy in two calls of the device tool (a command may run 10 minutes, a session
# has 15 minutes of device time, starts included): `build/gpu/session.sh 1` (≈ 5 min) then
# `build/gpu/session.sh 2` (≈ 7 min). Not yet run on a device: no session so far was lent one.
# Run from the repository root with
#   gpu-data/  the shared data (vgg/, styles/, content/, reference/), and
#   .whl/      wheels the device lacks (platformdirs, av; see the device README),
# both ignored via .git/info/exclude and named in the tool's carry list. The device has no
# package registry: it uses its own Python (torch, torchvision, onnxruntime, safetensors,
# pillow, numpy, pytest) with the project on PYTHONPATH. Results land in $OUT.
#   1. the CUDA tests;  2. the base model: continue build/base-model on the GPU;
#   3. the gallery: every painting learned with the balanced preset on cuda (train_gallery), at
#      192-px crops (on the CPU, 192-px crops still improved Starry Night after 128-px crops
#      had stopped improving it: README, "The amortisation gap");
#   4. the time-to-quality benchmark on cuda: quick and balanced beside legacy-balanced (the old
#      balanced preset, 4000 steps at 256 px × 4 from scratch, ≈ 9 h on a 2-core CPU), the
#      fast-training issue's quality reference.
set -uo pipefail
PART=${1:-1}
OUT=${OUT:-/tmp/gpu-out}
DATA=${DATA:-gpu-data}
mkdir -p "$OUT" /tmp/site
if ls .whl/*.whl > /dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl > "$OUT/pip.log" 2>&1
fi
export PYTHONPATH="$PWD:/tmp/site" PYTHONUNBUFFERED=1
export STYLESTUDIO_SHARED_DATA="$(cd "$DATA" && pwd)" STYLESTUDIO_OFFLINE=1 QT_QPA_PLATFORM=offscreen
PY=python3
if [ "$PART" = 1 ]; then
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
timeout 90 $PY -m pytest -q -p no:cacheprovider -k "cuda or gpu" tests --ignore=tests/gui \
  > "$OUT/cuda-tests.txt" 2>&1
cp -r build/base-model "$OUT/base-model"
timeout 200 $PY -m stylestudio.tools.train_base --data "$DATA" --state "$OUT/base-model" \
  --device cuda --steps 200000 --time-limit 180 --checkpoint-every 500 > "$OUT/train-base.log" 2>&1
$PY -m stylestudio.tools.export_gallery --data "$DATA" --state "$OUT/base-model" \
  --base-out "$OUT/base" > "$OUT/export.log" 2>&1
echo done > "$OUT/done-1"
exit 0
fi
timeout 210 $PY -m stylestudio.tools.train_gallery --data "$DATA"\
  --runs "$OUT/gallery-runs" --out "$OUT/gallery" --preset balanced --set crop_size=192 --device cuda \
  --time-limit 180 > "$OUT/train-gallery.log" 2>&1
rm -rf "$OUT/gallery-runs"
timeout 200 $PY -m stylestudio bench time-to-quality van-gogh-wheat-field-with-cypresses \
  --device cuda --paths quick,balanced,legacy-balanced --marks 5,10,20,60,150 --out "$OUT/ttq" \
  > "$OUT/ttq.log" 2>&1
echo done > "$OUT/done-2"
