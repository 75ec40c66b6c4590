# vae-book: `make book` builds the HTML book, `make test` runs every check (see README.md).
# Everything runs in .venv, created here with the system's python3 (3.11 or newer).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.vaelib-installed
HTML := _build/html

.NOTPARALLEL:
.PHONY: install data lint unit-tf unit-jax notebooks html site-check book test clean

# Re-installs only when pyproject.toml changes (or the stamp is removed).
install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e ".[book,dev]"
	@touch $@

# Makes sure MNIST and Fashion-MNIST are in vaelib's cache (fetching them if needed).
data: install
	$(PY) -m vaelib data

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit-tf: install
	KERAS_BACKEND=tensorflow $(BIN)/pytest -p no:cacheprovider tests

unit-jax: install
	KERAS_BACKEND=jax $(BIN)/pytest -p no:cacheprovider tests

# Every chapter, top to bottom, with the reduced budget; outputs are compared only in the
# cells marked NBVAL_CHECK_OUTPUT.
notebooks: install
	VAELIB_QUICK=1 $(BIN)/pytest --nbval-lax --current-env -p no:cacheprovider book/

# Strict build from the stored notebook outputs: any warning fails it. --all rebuilds every
# page, so warnings of unchanged pages are reported again.
html: install
	bash scripts/fetch_mathjax.sh
	$(BIN)/jupyter-book build . -W -n --keep-going --all

# Serves the built book on localhost and opens every page in headless Chromium (installed from
# Debian's packages when missing): pages load, images have a size, links resolve, maths renders.
# Then the latent explorer: offline, live, within 1e-2 of model.decode, a decode under 16 ms,
# and on chapter 4's page: eight models, live, within 3 MB, equal to vaelib.web.decode_exported.
site-check: install data
	bash scripts/install_chromium.sh
	$(PY) scripts/check_site.py $(HTML)
	$(PY) scripts/check_explorer.py --book-page $(HTML)/book/04_beta.html

book: install data html
	@echo "The book is at $(abspath $(HTML)/index.html)"

test: install data lint unit-tf unit-jax notebooks html site-check
	@echo "All checks passed."

clean:
	rm -rf _build .pytest_cache .ruff_cache
