# Baton's commands. `make test` is the test command CI runs.
GO ?= go
N ?= 10

.PHONY: test vet demo demo-run histories build fuzz lean clean

## test: vet, then every test (needs PostgreSQL: DATABASE_URL or 127.0.0.1:5432)
test: vet
	$(GO) test -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

## demo: the whole stack locally (Temporal + UI + worker + API) with 6 demo claims; Ctrl-C stops
demo:
	$(GO) run ./dev demo

## demo-run: push N claims through every stage, print each decision, exit 0
demo-run:
	$(GO) run ./dev demo --claims $(N) --exit

## histories: regenerate the replay-test histories in workflows/testdata
histories:
	BATON_UPDATE_HISTORIES=1 $(GO) test -count=1 -run TestHistories ./internal/e2e

## build: the three programs into bin/
build:
	$(GO) build -o bin/ ./worker ./starter ./dev

## fuzz: run each fuzz target briefly
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParsePolicy -fuzztime 20s ./policy
	$(GO) test -run '^$$' -fuzz FuzzParseDirectory -fuzztime 20s ./policy
	$(GO) test -run '^$$' -fuzz FuzzRules -fuzztime 20s ./policy

## lean: show that the worker and the starter link no Temporal server
lean:
	@! $(GO) list -deps ./worker ./starter | grep '^go.temporal.io/server' && echo "worker and starter link no Temporal server"

clean:
	rm -rf bin .baton
