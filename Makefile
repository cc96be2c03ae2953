# StyleStudio — developer entry points. Quick start: `make run` (app) and `make test` (tests).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SAMPLE := resources/samples/coffee.jpg
# Pinned torch/torchvision for development and CI (users of the package may have newer ones).
CONSTRAINTS ?= .ci/constraints.txt

.PHONY: run setup system-deps test lint bench bundle clean

run: setup  ## set up and launch the app with a built-in style and a sample photo
	$(PY) -m stylestudio gui $(SAMPLE)

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip >/dev/null
	$(PY) -m pip install -c $(CONSTRAINTS) -e ".[dev]"
	@touch $(STAMP)

# Shared libraries Qt needs on Debian/Ubuntu (offscreen and windowed), installed with apt-get
# when missing (through sudo unless root). Other systems ship them with the desktop.
QT_LIBS := libEGL.so.1 libGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3 libglib-2.0.so.0 \
           libxcb-cursor.so.0 libxkbcommon-x11.so.0
QT_DEBS := libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 \
           libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 \
           libxcb-render-util0 libxcb-image0 libxcb-xkb1 libx11-xcb1 fonts-dejavu-core
system-deps:
	@if [ "$$(uname -s)" = "Linux" ] && command -v apt-get >/dev/null; then \
	  missing=""; for lib in $(QT_LIBS); do ldconfig -p | grep -q "$$lib" || missing="$$missing $$lib"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing Qt system libraries (missing:$$missing)"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(QT_DEBS); \
	  fi; \
	fi

test: setup  ## set up and run the whole test suite (offscreen, CPU only)
	@QT_QPA_PLATFORM=offscreen STYLESTUDIO_OFFLINE=1 $(PY) -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: setup
	$(PY) -m ruff check stylestudio tests
	$(PY) -m ruff format --check stylestudio tests

bench: setup  ## engine latency/memory vs the reference TransformerNet
	$(PY) -m stylestudio bench

bundle: setup  ## Linux one-folder app in build/out/<variant>/ (PyInstaller) + its headless self-test
	@$(PY) -c "import PyInstaller" 2>/dev/null || $(PY) -m pip install -e ".[build]"
	PYTHON=$(PY) build/build_linux.sh $(BUNDLE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build/out build/work
