# Drover. `make demo` and `make test` work on a fresh machine with only Go installed.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
PKGS  := ./...
LINT  := $(GO) tool -modfile=tools/go.mod golangci-lint

.PHONY: all build test test-short check lint vet tidy-check cross demo bench lab fuzz clean

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/...

## test: every test, race detector on, shuffled. Real-daemon tests run when a
## Docker daemon is reachable (required when DROVER_REQUIRE_DOCKER=1, as in CI).
test:
	$(GO) test -race -shuffle=on -timeout 20m $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

vet:
	$(GO) vet $(PKGS)

tidy-check:
	$(GO) mod tidy -diff

lint:
	$(LINT) run $(PKGS)

## cross: the tools build for Windows hosts (npipe:// endpoints, the
## recycle hook run on the VM itself) and macOS.
cross:
	GOOS=windows GOARCH=amd64 $(GO) build ./cmd/...
	GOOS=darwin GOARCH=arm64 $(GO) build ./cmd/...

check: vet tidy-check lint cross

## fuzz: a short fuzz run of each file reader: inventory, release, lock.
fuzz:
	$(GO) test ./inventory -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 30s
	$(GO) test ./inventory -run '^$$' -fuzz '^FuzzReadRelease$$' -fuzztime 30s
	$(GO) test ./inventory -run '^$$' -fuzz '^FuzzReadLock$$' -fuzztime 30s

## demo: the whole story on the built-in lab, no setup.
demo: build
	$(BIN)/lab demo

## bench: the benchmarks recorded in BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

## lab: run the lab until interrupted; writes lab-hosts.yaml.
lab: build
	$(BIN)/lab up --write lab-hosts.yaml

clean:
	rm -rf $(BIN)
