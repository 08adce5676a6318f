# cpanel — see README.md. Every target sets itself up on a fresh Debian machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-down test lint bench clean prometheus screenshots screenshot-deps

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The sandbox runs its own Prometheus child process. Debian's package also enables a system
# service on :9090 that nothing here uses; --no-install-recommends leaves out node-exporter's.
prometheus:
	@command -v prometheus >/dev/null && command -v promtool >/dev/null || { \
		apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; }

# The dashboard on the sandbox: start the sandbox in the background unless it runs already,
# then open cpanel on it. The sandbox keeps running after you quit (`make demo-down`).
demo: $(STAMP) prometheus
	@$(BIN)/cpanel sandbox status >/dev/null 2>&1 || $(BIN)/cpanel sandbox up --detach
	@eval "$$($(BIN)/cpanel sandbox env)" && $(BIN)/cpanel --all-namespaces
	@echo "The sandbox still runs: 'make demo-down' stops it."

demo-down: $(STAMP)
	$(BIN)/cpanel sandbox down

lint: $(STAMP)
	$(BIN)/ruff check tui platform tests tools
	$(BIN)/lint-imports

# Two workers, a test file each: most tests wait on simulated machines rather than compute,
# so two halve the wall time; a file's tests share its module fixtures, and some run in order.
test: lint prometheus
	$(BIN)/pytest -q -n 2 --dist loadfile

# PNGs of every pane and of two incidents, from a seeded sandbox (tools/screenshots.py);
# about 6 minutes, most of it waiting for the cdn-off incident to saturate a volume.
# cairosvg draws with the system's cairo, in DejaVu Sans Mono.
screenshot-deps:
	@ldconfig -p | grep -q libcairo.so.2 && test -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf || { \
		apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libcairo2 fonts-dejavu-core; }

screenshots: $(STAMP) prometheus screenshot-deps
	$(BIN)/python tools/screenshots.py

# The API emulator at scale, then the dashboard's own figures (each against its targets).
bench: $(STAMP) prometheus
	$(BIN)/python -m tests.bench.kubeapi_scale
	$(BIN)/python -m tests.bench.dashboard

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
