# Developer loop. Every target sets up .venv first when it is missing or stale.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_PROMPT ?= Write a Python function that checks whether a string is a palindrome, with a one-line explanation.

.PHONY: setup demo ask test lint typecheck unit floors proto bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@missing=""; command -v bwrap >/dev/null 2>&1 || missing="bubblewrap"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium fonts-dejavu-core"; \
	command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	if [ -n "$$missing" ]; then \
		{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } || \
		echo "note: could not install$$missing (bubblewrap: generated code will not run unless allowed; chromium: page checks are skipped; dovecot-imapd: the mail tests are skipped)"; \
	fi
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# The main job, offline: the team builds a small app on the embedded model (an API, a
# design, a page) and the report shows whether the server answered every declared route
# and the page passed its check in headless Chromium. Networking is switched off where
# the machine allows a private network namespace. Exit 1 (built, but not verified) still
# shows the report; anything worse fails the target.
DEMO_IDEA ?= a todo list app where I can add todos, list them and get one by id
DEMO_WORKSPACE ?= demo-workspace
demo: setup
	@rm -rf $(DEMO_WORKSPACE)
	@if unshare -n true 2>/dev/null; then \
		echo "== autogpt build (embedded model, no network: unshare -n)"; run="unshare -n"; \
	else \
		echo "== autogpt build (embedded model; unshare unavailable, network left on)"; run=""; \
	fi; \
	$$run $(BIN)/autogpt build "$(DEMO_IDEA)" --workspace $(DEMO_WORKSPACE); status=$$?; \
	echo "== exit $$status; project and REPORT.md in $(DEMO_WORKSPACE)/"; \
	[ $$status -le 1 ]

# A one-line answer from GenericGPT, offline.
ask: setup
	@unshare -n $(BIN)/autogpt -p "$(DEMO_PROMPT)" 2>/dev/null || $(BIN)/autogpt -p "$(DEMO_PROMPT)"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q --cov --cov-report=term:skip-covered

test: lint typecheck unit

# The lowest versions pyproject.toml allows, in a venv of their own: every module imports
# and the unit tests pass (the embedded model's data packages are left out: large, pinned).
# Old releases warn about newer neighbours (starlette about anyio): warnings pass here.
FLOORS ?= $(VENV)-floors
floors: setup
	@rm -rf $(FLOORS)
	$(BIN)/uv venv -q -p $(PYTHON) $(FLOORS)
	VIRTUAL_ENV=$(FLOORS) $(BIN)/uv pip install -q --resolution lowest-direct -e ".[memory]"
	VIRTUAL_ENV=$(FLOORS) $(BIN)/uv pip install -q pytest pytest-asyncio pytest-timeout ruff grpcio-tools==1.85.1
	VIRTUAL_ENV=$(FLOORS) $(BIN)/uv pip list 2>/dev/null | grep -Ei '^(protobuf|grpcio|pydantic|openai|anthropic|click) '
	$(FLOORS)/bin/python -m pytest -q -p no:cacheprovider tests/unit -m "not model" \
		-W ignore::DeprecationWarning -W ignore::PendingDeprecationWarning \
		--deselect tests/unit/llm/test_model_files.py::test_real_small_model_parts_are_installed_in_order

proto: setup
	@rm -rf $(VENV)/proto-out && mkdir -p $(VENV)/proto-out
	$(BIN)/python -m grpc_tools.protoc -Iautogpt/iac/proto \
		--python_out=$(VENV)/proto-out --grpc_python_out=$(VENV)/proto-out --pyi_out=$(VENV)/proto-out \
		autogpt/iac/proto/iac/v1/iac.proto
	@sed -i 's/^from iac\.v1 import/from autogpt.iac._gen import/' $(VENV)/proto-out/iac/v1/iac_pb2_grpc.py
	cp $(VENV)/proto-out/iac/v1/iac_pb2.py $(VENV)/proto-out/iac/v1/iac_pb2.pyi \
		$(VENV)/proto-out/iac/v1/iac_pb2_grpc.py autogpt/iac/_gen/

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
