# Quire's two entry points are `make run` and `make test`; the rest are their steps.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# One target dir outside the clone, shared by every build here and by CI runs.
export CARGO_TARGET_DIR ?= /var/tmp/quire-target
# Built with the UI embedded (custom-protocol): no dev server is needed to run or test.
CARGO_FLAGS := --workspace --all-targets --locked --features quire-app/custom-protocol
APP_BIN := $(CARGO_TARGET_DIR)/debug/quire-app

.PHONY: run test bench deb test-package icons setup-run setup-test ui app check fmt-check clippy test-rust bindings-check \
	schemathesis test-ui typecheck lint-ui e2e fmt

## make run: install what is missing, build, start a local sync server and the desktop app.
run: setup-run ui
	cargo build $(CARGO_FLAGS)
	scripts/run-local.sh $(CARGO_TARGET_DIR)/debug

## make test: install what is missing, then every check and test, e2e included.
test: setup-test ui check test-rust schemathesis test-ui e2e

## make bench: the performance figures as one table (and JSON in $(BENCH_OUT)/bench.json):
## release builds, a PostgreSQL with fsync on, the app on a virtual display.
BENCH_OUT ?= $(CARGO_TARGET_DIR)/quire-bench
BENCHES := --bench save_enqueue --bench sync_figures --bench cli_figures --bench server_load \
	--bench server_floods --bench app_idle --bench history_figures --bench search_figures --bench check_figures
bench: setup-test ui
	cargo build --release --locked -p quire-app -p quire-server -p quire-cli --features quire-app/custom-protocol
	rm -rf $(BENCH_OUT)
	@# The benches run copies: a build elsewhere into the shared target dir during the run
	@# must not swap the binaries being measured.
	mkdir -p $(BENCH_OUT)/bin
	cp $(CARGO_TARGET_DIR)/release/quire-app $(CARGO_TARGET_DIR)/release/quire-server \
		$(CARGO_TARGET_DIR)/release/quire $(BENCH_OUT)/bin/
	QUIRE_BENCH_OUT=$(BENCH_OUT) QUIRE_PG_FSYNC=on QUIRE_APP_BIN=$(BENCH_OUT)/bin/quire-app \
		QUIRE_SERVER_BIN=$(BENCH_OUT)/bin/quire-server QUIRE_CLI_BIN=$(BENCH_OUT)/bin/quire \
		WEBKIT_DISABLE_DMABUF_RENDERER=1 LIBGL_ALWAYS_SOFTWARE=1 \
		scripts/with-postgres.sh xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
		dbus-run-session -- cargo bench --locked -p quire-client $(BENCHES)
	@# Typing into a 1 MB note in the real window, through tauri-driver as the e2e suite runs it.
	QUIRE_BENCH_OUT=$(BENCH_OUT) QUIRE_APP_BIN=$(BENCH_OUT)/bin/quire-app QUIRE_CLI_BIN=$(BENCH_OUT)/bin/quire \
		WEBKIT_DISABLE_DMABUF_RENDERER=1 LIBGL_ALWAYS_SOFTWARE=1 \
		scripts/with-keyring.sh xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
		node --import tsx tests/e2e/typing-latency.bench.ts
	node --import tsx scripts/bench-table.ts $(BENCH_OUT)

## make deb: release .debs in $(DEB_OUT): the desktop app (Tauri's bundler: desktop entry,
## icons, Depends) and quire-cli and quire-server (cargo-deb; the server with its systemd unit).
DEB_OUT ?= $(CARGO_TARGET_DIR)/debs
deb: setup-test ui
	rm -rf $(DEB_OUT)
	mkdir -p $(DEB_OUT)
	npm run --silent tauri -- build --bundles deb --ci
	cp $(CARGO_TARGET_DIR)/release/bundle/deb/*.deb $(DEB_OUT)/
	cargo deb --locked -p quire-cli --output $(DEB_OUT)
	cargo deb --locked -p quire-server --output $(DEB_OUT)

## make icons: the app's icons in every size, from the one source image.
icons:
	npm run --silent tauri -- icon src-tauri/icons/quire.svg -o src-tauri/icons/app --png 16,24,32,48,64,128,256,512

## make test-package: install the .debs into this machine, check them, remove them again.
test-package: deb
	scripts/test-package.sh $(DEB_OUT)

setup-run:
	bash scripts/setup.sh run

setup-test:
	bash scripts/setup.sh test

ui:
	npm run --silent build:ui

app: ui
	cargo build $(CARGO_FLAGS)

check: fmt-check clippy typecheck lint-ui

fmt-check:
	cargo fmt --all -- --check

clippy: ui
	cargo clippy $(CARGO_FLAGS) -- -D warnings

# With a throwaway PostgreSQL and a private D-Bus session holding an unlocked gnome-keyring:
# the server's PostgreSQL tests and the keyring tests run against the real things.
test-rust: ui
	scripts/with-postgres.sh scripts/with-keyring.sh cargo test $(CARGO_FLAGS)
	$(MAKE) --no-print-directory bindings-check

# ts-rs rewrote ui/src/bindings during `cargo test`; any difference means they were stale.
bindings-check:
	@if ! git diff --quiet -- ui/src/bindings || [ -n "$$(git ls-files --others --exclude-standard -- ui/src/bindings)" ]; then \
		echo "ui/src/bindings is stale: commit what cargo test generated:"; \
		git status --short -- ui/src/bindings; exit 1; \
	fi

# The server against its own OpenAPI document: schemathesis, every check, SQLite and
# PostgreSQL, a bounded time each (scripts/schemathesis.sh).
schemathesis: app
	scripts/schemathesis.sh $(CARGO_TARGET_DIR)/debug/quire-server

typecheck:
	npm run --silent typecheck

lint-ui:
	npm run --silent lint

test-ui:
	npm run --silent test:ui

e2e: app
	QUIRE_APP_BIN=$(APP_BIN) QUIRE_CLI_BIN=$(CARGO_TARGET_DIR)/debug/quire \
		QUIRE_SERVER_BIN=$(CARGO_TARGET_DIR)/debug/quire-server tests/e2e/run.sh

fmt:
	cargo fmt --all
