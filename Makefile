# Baton's commands. `make test` is the test command CI runs.
GO ?= go
N ?= 10

.PHONY: bin/dev lint-deploy test test-only vet demo demo-run histories build fuzz lean clean bench chaos

## test: the test command. Finds or installs PostgreSQL and chromium (tools/ensure-test-deps),
## then vet, every test of the main module and of tools/, and a short pass of every fuzz target
test:
	tools/ensure-test-deps $(MAKE) --no-print-directory test-only

test-only: vet
	$(GO) test -count=1 -timeout 10m ./...
	cd tools && $(GO) test -count=1 -timeout 20m ./...
	@# Go's fuzzer can end a timed run with a spurious "context deadline exceeded" on a
	@# busy 2-CPU machine; a real failure writes its input to testdata/fuzz and repeats.
	$(MAKE) --no-print-directory fuzz FUZZTIME=5s || { echo "fuzz failed; running it once more (a real failure repeats)"; $(MAKE) --no-print-directory fuzz FUZZTIME=5s; }

vet:
	$(GO) vet ./...
	cd tools && $(GO) vet ./...
	cd examples/productmodule && $(GO) vet ./...
	cd examples/claimstarter && $(GO) vet ./...
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

## demo: the whole stack locally (Temporal + UI + worker + API) with 6 demo claims; Ctrl-C stops
demo: bin/dev
	bin/dev demo

## demo-run: push N claims through every stage, print each decision, exit 0
demo-run: bin/dev
	bin/dev demo --claims $(N) --exit

## bench: every figure of docs/bench/report.md against its same-run baseline (~20 min; not part of test); exit 1 naming any missed target
bench:
	$(GO) build -o bin/ ./worker
	$(GO) build -C tools -o ../bin/ ./dev ./noopworker
	bin/dev bench --worker bin/worker --noop-worker bin/noopworker --out docs/bench

## chaos: 294 claims through worker, PostgreSQL and Temporal crashes; exit 1 on any loss (TEMPORAL_STORE=postgres: Temporal on PostgreSQL)
TEMPORAL_STORE ?= sqlite
chaos:
	$(GO) build -o bin/ ./worker
	$(GO) build -C tools -o ../bin/ ./dev
	bin/dev chaos --worker bin/worker --temporal-store $(TEMPORAL_STORE)

## histories: regenerate the replay-test histories in workflows/testdata
histories:
	cd tools && BATON_UPDATE_HISTORIES=1 $(GO) test -count=1 -run 'TestHistories|TestContinuedHistories' ./e2e

## build: the three programs into bin/
build:
	$(GO) build -o bin/ ./worker ./starter
	$(GO) build -C tools -o ../bin/ ./dev

## fuzz: run every fuzz target for FUZZTIME each (seeds: each package's testdata/fuzz/)
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParsePolicy$$' -fuzztime $(FUZZTIME) ./policy/yamlfile
	$(GO) test -run '^$$' -fuzz '^FuzzParseDirectory$$' -fuzztime $(FUZZTIME) ./policy/yamlfile
	$(GO) test -run '^$$' -fuzz '^FuzzParseGroups$$' -fuzztime $(FUZZTIME) ./policy/yamlfile
	$(GO) test -run '^$$' -fuzz '^FuzzParseSampleClaims$$' -fuzztime $(FUZZTIME) ./policy/yamlfile
	$(GO) test -run '^$$' -fuzz '^FuzzRules$$' -fuzztime $(FUZZTIME) ./policy/yamlfile
	$(GO) test -run '^$$' -fuzz '^FuzzCompiledRules$$' -fuzztime $(FUZZTIME) ./policy
	$(GO) test -run '^$$' -fuzz '^FuzzFoldKey$$' -fuzztime $(FUZZTIME) ./policy
	$(GO) test -run '^$$' -fuzz '^FuzzActionBody$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzClaimReads$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzQueueQuery$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzAuthorization$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzStartInput$$' -fuzztime $(FUZZTIME) ./workflows

## lean: show that the worker and the starter link no Temporal server
lean:
	@! $(GO) list -deps ./worker ./starter | grep '^go.temporal.io/server' && echo "worker and starter link no Temporal server"

## lint-deploy: docker compose config and hadolint over the deployment files, where installed
lint-deploy:
	tools/lint-deploy

clean:
	rm -rf bin .baton

# bin/dev: the developer tool (demo, bench, chaos, directory), from the tools module
bin/dev:
	$(GO) build -C tools -o ../bin/ ./dev
