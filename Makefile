# The commands the README names. `make demo` and `make test` create .venv when needed.
VENV   ?= .venv
PYTHON ?= python3
TORCH  ?= 2.13.0
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

# torch goes in first, pinned, so that nothing below pulls a CUDA build on a CPU machine
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/probgen fit coin --out runs/coin --progress off
	$(BIN)/probgen fit eight_schools_noncentered --out runs/eight_schools --progress off

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/mcmc_eight_schools.py
	$(BIN)/python benchmarks/langevin.py
	$(BIN)/python benchmarks/svi_vae.py
	$(BIN)/python benchmarks/digits_nll.py
	$(BIN)/python benchmarks/overhead.py

clean:
	rm -rf $(VENV) runs build *.egg-info
