# gingen's entry points. Two test loops:
#   fast: make test, the same as go test ./... at the root: the product's unit, golden and
#         script tests, a few minutes warm on 2 cores.
#   full: make check, what CI runs (.ci/run) and the README's test command: the root module
#         with its slow variants (GINGEN_TEST_FULL=1, internal/testloop) and the e2e module.
# Each go test -timeout is per package: test and full are over 2x their packages' measured
# times on a busy 2-core machine; e2e is not (see there).

GO ?= go

.PHONY: help test full e2e check golden deps

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## test: the fast loop: go test ./... at the root (unit, golden and script tests) and in restart/ (the restart library)
test:
	$(GO) test -timeout 10m ./...
	cd restart && $(GO) test -timeout 10m ./...

## full: the root module's tests including the slow variants, and the restart library's under the race detector (interrupted gingen runs, generated projects built, depsgen staleness)
full:
	GINGEN_TEST_FULL=1 $(GO) test -timeout 30m ./...
	cd restart && $(GO) test -race -timeout 10m ./...

## e2e: the e2e module: golden projects built, tested and run under load, databases, supervisord, HAProxy, real systemd; harness and bench commands' tests
# Its main package took 44 min on a busy 2-core machine (issue 21) and over 45 min on a fresh
# clone beside another suite: 75m is under 2x that; splitting the package is what brings it
# down.
e2e:
	cd e2e && GINGEN_TEST_FULL=1 $(GO) test -timeout 75m ./...

## check: both loops at once, make full and make e2e, each one's output shown when it ends (CI runs this)
# At once, as one go test ./... over both used to: the e2e module is the long pole, and most
# of its time is spent waiting on servers, not on the CPU.
check:
	$(MAKE) -j2 --output-sync=target full e2e

## golden: rewrite golden/ from the templates, then build, vet and test every golden tree
golden:
	$(GO) test -count=1 ./generator -run Golden -update
	cd e2e && $(GO) test -count=1 -run 'TestGoldenTreesBuildVetAndPassTheirTests' .

## deps: rewrite the generated projects' go.mod/go.sum templates from internal/depsgen/pins.txt
deps:
	$(GO) run ./internal/depsgen
