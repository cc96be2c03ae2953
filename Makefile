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
	@$(MAKE) --no-print-directory system-deps  # fast when all is there; libraries may go later
	$(PY) -m stylestudio gui $(SAMPLE)

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip >/dev/null
	$(PY) -m pip install -c $(CONSTRAINTS) -e ".[dev]"
	@$(MAKE) --no-print-directory system-deps  # now also probes the installed Qt plugins
	@touch $(STAMP)

# Debian/Ubuntu packages of the libraries Qt's xcb (windows) and offscreen platform plugins link
# (readelf/ldd of PySide6 6.12's plugins), installed with apt-get when dpkg lacks one (through sudo
# unless root). Once PySide6 is in $(VENV), .ci/qt_system_deps.py also runs ldd on the plugins and
# installs the package of every library reported "not found". No apt call when all is there.
# Other systems ship these libraries with the desktop.
QT_DEBS := libegl1 libgl1 libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 \
           libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 \
           libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1 \
           libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 \
           fonts-dejavu-core
system-deps:  ## install the system libraries Qt needs (Debian/Ubuntu; nothing elsewhere)
	@$(PYTHON) .ci/qt_system_deps.py --venv $(VENV) $(QT_DEBS)

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
