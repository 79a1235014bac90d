# fabrica — build, test and benchmark. `make test` is everything CI runs.
GO        ?= go
BIN       := bin/fabrica
PKGS      := ./...
# Fuzzing is bounded by executions, not seconds: Go 1.26's coordinator can fail a
# target with "context deadline exceeded" when a time budget ends while a worker is
# busy (golang/go#75804, fixed in 1.27), which a loaded CI machine makes likely.
# 60,000 runs of FuzzLoad take 15–30 s here.
FUZZTIME  ?= 60000x
export CGO_ENABLED ?= 0

.PHONY: all build test unit lint fuzz bench generate quickstart clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/fabrica

# The full suite, as CI runs it: installs what is missing (Debian packages), then vet,
# gofmt, the generated-code check, every test and a bounded fuzz run.
test:
	FUZZTIME=$(FUZZTIME) scripts/test.sh

unit:
	$(GO) test -vet=off -count=1 $(PKGS)

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needs to run on:"; echo "$$out"; exit 1; fi

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=$(FUZZTIME) -fuzzminimizetime=1x ./planner/
	$(GO) test -run='^$$' -fuzz=FuzzLexMatchesUpstream -fuzztime=20000x -fuzzminimizetime=1x ./internal/hclsyntax/
	$(GO) test -run='^$$' -fuzz=FuzzParseMatchesUpstream -fuzztime=3000x -fuzzminimizetime=1x ./internal/hclsyntax/
	$(GO) test -run='^$$' -fuzz=FuzzQuickParseMatchesUpstream -fuzztime=50000x -fuzzminimizetime=1x ./internal/hclsyntax/

# BenchmarkApplyJournal compares state on PostgreSQL with local state: start the server.
bench:
	scripts/pg-up.sh
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=3x -timeout=60m ./bench/

generate:
	$(GO) generate ./providers/proto/...
	cd internal/hclsyntax && ragel -Z -F1 scan_tokens.rl && gofmt -w scan_tokens.go
	$(GO) test ./schema -run TestReference -update

# The README quickstart's main job: plan and apply examples/quickstart with the embedded
# default providers, which trains a model with examples/trainer on this machine.
quickstart: build
	$(GO) build -o bin/trainer ./examples/trainer
	PATH="$(CURDIR)/bin:$$PATH" ./$(BIN) -C examples/quickstart init
	PATH="$(CURDIR)/bin:$$PATH" ./$(BIN) -C examples/quickstart apply --auto-approve
	PATH="$(CURDIR)/bin:$$PATH" ./$(BIN) -C examples/quickstart jobs

clean:
	rm -rf bin
