#!/usr/bin/env bash
# Build the Linux one-folder bundle into build/out/<variant>/StyleStudio and self-test it.
#
#   build/build_linux.sh [--variant auto|cuda|cpu] [--vgg-weights FILE] [--strip-cuda-libs]
#                        [--resources DIR] [--tarball] [--no-self-test] [--clean]
#
#   --variant          which torch the bundle must carry (default: the installed one)
#   --vgg-weights F    bundle a VGG19 weights file (offline training) as resources/vgg/...
#   --strip-cuda-libs  drop the CUDA libraries from a CUDA torch (size measurement; see README)
#   --resources DIR    bundle DIR as resources/ instead of ./resources (test builds)
#   --tarball          also write build/out/StyleStudio-<version>-linux-x86_64-<variant>.tar.gz
#   --no-self-test     skip running the bundle
#   --clean            discard PyInstaller's cache in build/work first
#
# Environment: PYTHON (default .venv/bin/python), NICE (default 10: the build is CPU-heavy).
# Prints build time, bundle size and the size of the CUDA libraries in it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
NICE="${NICE:-10}"

spec_args=()
variant="auto"
tarball=0
self_test=1
clean=()
stripped=0
resources="$ROOT/resources"
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant="$2"; spec_args+=(--variant "$2"); shift 2 ;;
    --vgg-weights) spec_args+=(--vgg-weights "$(realpath "$2")"); shift 2 ;;
    --resources) resources="$(realpath "$2")"; spec_args+=(--resources "$resources"); shift 2 ;;
    --strip-cuda-libs) stripped=1; spec_args+=(--strip-cuda-libs); shift ;;
    --tarball) tarball=1; shift ;;
    --no-self-test) self_test=0; shift ;;
    --clean) clean=(--clean); shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "build_linux.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

if [ ! -x "$PY" ]; then
  echo "build_linux.sh: no Python at $PY (run 'make setup' or set PYTHON)" >&2
  exit 1
fi
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "build_linux.sh: PyInstaller is missing: $PY -m pip install -e '.[build]'" >&2
  exit 1
fi
if ! compgen -G "$resources/styles/*/style.json" >/dev/null; then
  echo "build_linux.sh: $resources/styles holds no built-in style; the app would ship without" \
       "one and its self-test would fail." >&2
  exit 1
fi

version="$("$PY" -c "import sys; sys.path.insert(0, 'build'); import bundling; \
print(bundling.read_version('stylestudio/__init__.py'))")"
if [ "$variant" = "auto" ]; then
  variant="$("$PY" -c "import sys; sys.path.insert(0, 'build'); import bundling; \
print(bundling.installed_torch_variant())")"
fi
label="$variant"
[ "$stripped" = 1 ] && [ "$variant" = "cuda" ] && label="cuda-stripped"
dist="build/out/$label"
bundle="$dist/StyleStudio"
work="build/work/$variant"  # per torch build; --strip-cuda-libs reuses the cuda analysis
mkdir -p build/out "$work"

echo "== PyInstaller: StyleStudio $version, $label bundle -> $bundle"
start=$(date +%s)
nice -n "$NICE" "$PY" -m PyInstaller --noconfirm "${clean[@]}" --log-level WARN \
  --distpath "$dist" --workpath "$work" build/stylestudio.spec -- "${spec_args[@]}"
elapsed=$(( $(date +%s) - start ))

size_bytes=$(du -sb "$bundle" | cut -f1)
cuda_bytes=$(find "$bundle" -type f -print0 | "$PY" -c "
import os, sys
sys.path.insert(0, 'build')
import bundling
names = [p for p in sys.stdin.buffer.read().decode().split('\0') if p]
print(sum(os.path.getsize(p) for p in names if bundling.is_cuda_binary(p.split('/_internal/', 1)[-1])))
")
mib() { echo "$(( $1 / 1048576 )) MiB"; }
echo "== built in ${elapsed}s ($((elapsed / 60)) min $((elapsed % 60)) s)"
echo "== bundle size: $(mib "$size_bytes"); CUDA libraries in it: $(mib "$cuda_bytes");" \
     "without them: $(mib $((size_bytes - cuda_bytes)))"

status=0
if [ "$self_test" = 1 ]; then
  echo "== self-test (offscreen, CPU, throw-away user folders)"
  tmp="$(mktemp -d)"
  touch "$tmp/stamp"
  set +e
  env -u STYLESTUDIO_RESOURCES_DIR QT_QPA_PLATFORM=offscreen STYLESTUDIO_DATA_DIR="$tmp/data" \
    STYLESTUDIO_CACHE_DIR="$tmp/cache" "$bundle/StyleStudio" --self-test 2>&1 | tee "$tmp/out.txt"
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" = 0 ] && ! grep -q "^self-test OK$" "$tmp/out.txt"; then
    echo "self-test exited 0 without printing 'self-test OK'" >&2
    status=1
  fi
  written="$(find "$bundle" -newer "$tmp/stamp" -print | head -5)"
  if [ -n "$written" ]; then
    echo "the app wrote into its own bundle (it must write only to user folders):" >&2
    echo "$written" >&2
    status=1
  fi
  echo "== self-test exit code: $status (log: $tmp/data/logs/stylestudio.log)"
fi

if [ "$tarball" = 1 ] && [ "$status" = 0 ]; then
  archive="build/out/StyleStudio-$version-linux-x86_64-$label.tar.gz"
  PYTHON="$PY" NICE="$NICE" build/linux/make_tarball.sh "$bundle" "$archive"
fi
exit "$status"
