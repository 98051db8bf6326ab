# Annals — the commands a developer needs. `make test` is the one test
# command: it installs what the tests need, then runs every check CI runs.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
BUF := buf
GO_PKGS := ./...
FUZZTIME ?= 50000x

.PHONY: all run test tools generate check-generated lint breaking fmt-check vet unit fuzz bench build soak-short

all: build

## run: start Annals on the embedded default (./annals.db, bundled dataset)
run:
	go run ./cmd/annals serve

build:
	go build -o bin/annals ./cmd/annals

## tools: install what the tests need (Debian packages, npm tools, Go modules)
tools:
	./scripts/install-tools

## generate: regenerate gen/ (Go, and the JavaScript client in gen/es/) from proto/ with buf and the pinned local plugins
generate:
	$(BUF) format -w
	$(BUF) generate
	$(BUF) build -o server/descriptors.binpb

## check-generated: fail when gen/ (Go or gen/es/) or the descriptor set reflection serves is stale, or proto/ is not formatted
check-generated:
	$(BUF) format -d --exit-code
	@tmp=$$(mktemp -d) && $(BUF) generate -o "$$tmp" && diff -r gen "$$tmp/gen" || { echo "gen/ is stale: run make generate" >&2; exit 1; }
	@tmp=$$(mktemp -d) && $(BUF) build -o "$$tmp/d.binpb" && cmp -s server/descriptors.binpb "$$tmp/d.binpb" || { echo "server/descriptors.binpb is stale: run make generate" >&2; exit 1; }

lint:
	$(BUF) lint

## breaking: fail when proto/ breaks the API on main (once main has a proto)
breaking:
	./scripts/buf-breaking

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [ -n "$$out" ]; then echo "gofmt would change: $$out" >&2; exit 1; fi

vet:
	go vet $(GO_PKGS)

unit:
	CI=$${CI:-} go test -race -count=1 $(GO_PKGS)

## fuzz: run each fuzz target for a bounded number of executions (FUZZTIME, default 50000x)
fuzz:
	./scripts/fuzz $(FUZZTIME)

## soak-short: the short soak (about 30 s): ghz against the real binary, zero errors, bounded RSS (scripts/soak)
soak-short:
	SOAK_SHORT=1 ./scripts/soak

test: tools check-generated lint breaking fmt-check vet unit fuzz soak-short

## bench: run the benchmarks and their baselines (see BENCHMARKS.md)
bench:
	./scripts/bench
