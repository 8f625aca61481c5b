# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Hush build. `make test` is what CI runs (.ci/run); every step of it is also a
# target of its own. `make help` lists the targets.
#
# Conventions the targets rely on:
#   - Long tests (big transfers, soak runs) are named TestLong... and skip
#     themselves under -short:
#         func TestLongTransfer100MiB(t *testing.T) {
#             if testing.Short() { t.Skip("long test: make test-long") }
#             ...
#     `make test-race` runs everything with -race -short (so they skip);
#     `make test-long` runs only ^TestLong, once, without -race.
#   - Every parser has a FuzzXxx target in a *_test.go file of a leaf package
#     (fuzz builds instrument every dependency). `make fuzz-smoke` / `make fuzz`
#     find them all and run each on its own (go test takes one -fuzz target per
#     run). Seed corpora live in <pkg>/testdata/fuzz/ and are committed.
#   - Tools the build installs go to .bin/ (gitignored), first on PATH here.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-print-directory

BIN_DIR := $(CURDIR)/.bin
export BIN_DIR
export PATH := $(BIN_DIR):$(PATH)

# Debian packages the build needs, as CHECK:PACKAGE. CHECK is a command looked
# up on PATH, or an absolute path of a file the package installs. Missing ones
# are installed by `make deps` with a single apt-get call. Add new needs here.
APT_PACKAGES := \
	git:git \
	gcc:gcc \
	/usr/include/stdlib.h:libc6-dev \
	protoc:protobuf-compiler \
	/usr/include/google/protobuf/timestamp.proto:libprotobuf-dev \
	pkg-config:pkg-config \
	/usr/include/opus/opus.h:libopus-dev \
	/usr/include/opus/opusfile.h:libopusfile-dev \
	opusinfo:opus-tools \
	dbus-run-session:dbus \
	dbus-launch:dbus-x11 \
	gnome-keyring-daemon:gnome-keyring \
	secret-tool:libsecret-tools

# protoc-gen-go is always the version of google.golang.org/protobuf in go.mod.
# protoc-gen-connect-go is the version of connectrpc.com/connect in go.mod once
# go.mod requires it, until then this one:
CONNECT_GO_VERSION ?= v1.21.1
export CONNECT_GO_VERSION
# The protoc that made the committed code (Debian bookworm's); another one
# only gets a warning, and the check-generate diff shows what it changed.
PROTOC_VERSION ?= 3.21.12
export PROTOC_VERSION

FUZZTIME ?=
FUZZ ?= .
export FUZZ
BENCH ?= .
BENCHCOUNT ?= 1
BENCHPKGS ?= ./...
BENCH_DIR := .bench
# Browser-facing packages: must build for js/wasm and never link grpc-go.
WASM_PKGS = ./pkg/... $(if $(wildcard clients/wasm),./clients/wasm/...)

# The steps of `make test`, in order; the first failure stops the run.
TEST_STEPS := deps check-generate fmt-check vet test-race test-keychain test-long fuzz-smoke wasm grpc-free

.PHONY: help test $(TEST_STEPS) deps-apt deps-go generate bench fuzz demo clean

help: ## list the targets
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN { FS = ":.*## " } { printf "  %-15s %s\n", $$1, $$2 }'

test: ## everything CI checks, in order, stopping at the first failure
	@start=$$(date +%s); n=0; total=$(words $(TEST_STEPS)); \
	for step in $(TEST_STEPS); do \
		n=$$((n + 1)); \
		echo "==> make test [$$n/$$total] $$step (at $$(( $$(date +%s) - start ))s)"; \
		if ! $(MAKE) $$step; then \
			echo "make test: FAILED at step $$n/$$total '$$step' after $$(( $$(date +%s) - start ))s (rerun just it: make $$step)" >&2; \
			exit 1; \
		fi; \
	done; \
	echo "make test: OK: all $$total steps passed ($(TEST_STEPS)) in $$(( $$(date +%s) - start ))s"

deps: deps-apt deps-go ## install missing Debian packages and pinned Go tools (quiet if none)

deps-apt:
	@.ci/deps.sh apt $(APT_PACKAGES)

deps-go:
	@.ci/deps.sh go-tools

generate: deps ## regenerate proto/*/v1/*.pb.go (and connect stubs for protos with a service)
	@.ci/generate.sh

check-generate: ## fail if `make generate` changes anything under proto/
	@.ci/check.sh generated

fmt-check: ## fail if any .go file is not gofmt'ed
	@.ci/check.sh fmt

vet: ## go vet ./...
	go vet ./...

test-race: ## go test -race -short ./...
	go test -race -short ./...

test-keychain: ## the keychain tests against a real Secret Service (gnome-keyring under dbus-run-session)
	@.ci/keyring-test.sh

test-long: ## the TestLong... tests, once, without -race
	go test -count=1 -run '^TestLong' ./...

fuzz-smoke: ## every fuzz target for FUZZTIME (default 3s) each
	@FUZZTIME=$(or $(FUZZTIME),3s) .ci/fuzz.sh

fuzz: ## every fuzz target for FUZZTIME (default 60s) each; FUZZ=regexp picks targets
	@FUZZTIME=$(or $(FUZZTIME),60s) .ci/fuzz.sh

wasm: ## build the browser-facing packages for GOOS=js GOARCH=wasm
	GOOS=js GOARCH=wasm go build $(WASM_PKGS)

grpc-free: ## fail if the js/wasm build of the browser-facing packages links google.golang.org/grpc
	@.ci/check.sh grpc-free

bench: ## benchmarks (BENCH, BENCHCOUNT, BENCHPKGS); output also in .bench/latest.txt
	@mkdir -p $(BENCH_DIR); \
	out=$(BENCH_DIR)/bench-$$(date +%Y%m%d-%H%M%S).txt; \
	go test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCHCOUNT) $(BENCHPKGS) | tee "$$out"; \
	cp "$$out" $(BENCH_DIR)/latest.txt; \
	echo "bench: results in $$out and $(BENCH_DIR)/latest.txt (compare runs with benchstat OLD NEW)"

demo: ## run the demo (go run ./clients/cli/cmd/hush-demo $(ARGS))
	go run ./clients/cli/cmd/hush-demo $(ARGS)

clean: ## remove .bin/ and .bench/
	rm -rf $(BIN_DIR) $(BENCH_DIR)
