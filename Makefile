# gingen's entry points. Two test loops:
#   fast: make test, the same as go test ./... at the root: the product's unit, golden and
#         script tests, a few minutes warm on 2 cores.
#   full: make check, what CI runs (.ci/run) and the README's test command: the root module
#         with its slow variants (GINGEN_TEST_FULL=1, internal/testloop) and the e2e module.
# Each go test -timeout is per package, at least 2x the slowest package's measured time on a
# busy 2-core machine (the figures beside each target: -json or the ok lines of a run).

GO ?= go

# go test, or gotestsum where it is installed (.ci/run installs it): the same output as go test's,
# and every test's pass/fail event in $(TIMINGS)/LOOP.json, from which `make slowest` lists the
# tests slower than 20 s: the figures the timeouts below are set from, in every CI log.
GOTESTSUM ?= $(shell command -v gotestsum 2>/dev/null)
TIMINGS ?= $(CURDIR)/.timings
gotest = $(if $(GOTESTSUM),$(GOTESTSUM) --format standard-quiet --hide-summary skipped --jsonfile-timing-events $(TIMINGS)/$(1).json --,$(GO) test)

.PHONY: help build install test full e2e check golden golden-deps deps deps-check slowest timings

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

# gingen's own binary is built without cgo: it never calls C, and a default build links the
# C library and starts cgo (3-4 ms of every command's start-up) only because standard packages
# it imports have cgo variants (net, imported by pflag; os/user, by archive/tar). Without
# -trimpath: a build from a checkout that is not at a release tag is a development build,
# which finds its checkout's restart/ by its own source path (docs/RELEASING.md); releases are
# installed with -trimpath too (README, "Install").

## build: bin/gingen, static (CGO_ENABLED=0), as gingen is installed
build:
	CGO_ENABLED=0 $(GO) build -o bin/gingen ./cmd/gingen

## install: gingen into $(go env GOBIN), static (CGO_ENABLED=0)
install:
	CGO_ENABLED=0 $(GO) install ./cmd/gingen

## test: the fast loop: go test ./... at the root (unit, golden and script tests) and in restart/ (the restart library)
# 10m: generator 32 s, cmd/gingen 16 s, restart 33 s (make test, 73 s in all, load average
# 2 to 3, 2026-12-07); generator 138 s and cmd/gingen 72 s at load 4 to 21 (2026-12-06).
test: timings
	$(call gotest,test) -timeout 10m ./...
	cd restart && $(call gotest,test-restart) -timeout 10m ./...

## full: the root module's tests including the slow variants (interrupted gingen runs, generated projects built, depsgen staleness), and the restart library's, all under the race detector (needs cgo: gcc)
# One run under -race rather than a run without it here and a -race -short run of the same
# tests among CI's gates: the slow variants spend much of their time in child processes (go
# build), which -race does not slow. Not all: the scripts' gingen (cmd/gingen, testscript) is
# the race-built test binary. Which of the two costs less CPU is not measured yet (issue 21).
# 60m: under -race, in CI runs on fresh clones beside make e2e and the gates: cold (empty
# module, build and lint caches, a fresh machine; 2026-12-07, stop 36) generator 1002 s
# (3.6x; 860 s at stop 35), cmd/gingen 499 s; warm (the same machine) generator 638 s,
# cmd/gingen 438 s (5.6x). 10m: restart 79 s cold (7.6x), 74 s warm.
full: timings
	GINGEN_TEST_FULL=1 $(call gotest,full) -race -timeout 60m ./...
	cd restart && $(call gotest,full-restart) -race -timeout 10m ./...

## e2e: the e2e module: golden projects built, tested and run under load, databases, supervisord, HAProxy, real systemd; harness and bench commands' tests
# 85m: in CI runs on fresh clones (2026-12-07, stop 36), the e2e package took 1498 s cold (a
# fresh machine: empty module, build and lint caches, no nspawn root file system: 3.4x; 2107 s
# at stop 32, before generated projects' tests left libopenapi) and 980 s warm (5.2x; 1245 s
# before its golden-tree test ran after its serial tests and event streams flushed their
# headers); e2e/realsystemd, which go test runs at the same time (the chaos suite 300 s, the
# reload test 210 to 255 s), 530 s cold and 500 s warm. Before make golden-deps, e2e took
# 2745 s cold.
e2e: timings
	cd e2e && GINGEN_TEST_FULL=1 $(call gotest,e2e) -timeout 85m ./...

## check: both loops at once, make full and make e2e, each one's output shown when it ends (CI runs this)
# At once, as one go test ./... over both used to: the e2e module is the long pole, and most
# of its time is spent waiting on servers, not on the CPU.
check: golden-deps
	$(MAKE) -j2 --output-sync=target full e2e

## golden-deps: compile the golden trees' dependencies once, as their tests build them, before make check's parallel phase
# make full and make e2e build golden trees and projects like them in several go commands at
# once. With a cold build cache each compiled the same dependencies (gin, gorm, the SQLite,
# PostgreSQL and MySQL drivers, OpenTelemetry...): the go command shares no work in progress
# between processes. One go command per tree, one tree after the other, compiles each once;
# warm, this takes a few seconds.
# The environment, build tags and flags are those of every go command on a golden project
# (internal/restartmod/goenv): a package compiled so for one is in the build cache for all.
golden-deps:
	@set -e; eval "$$($(GO) run ./internal/restartmod/goenv -shell)"; \
	for mod in golden/*/; do \
	  pkgs="$$(cd "$$mod" && $(GO) list -deps -test -f '{{if not (and .Module .Module.Main)}}{{.ImportPath}}{{end}}' ./...)"; \
	  (cd "$$mod" && $(GO) build $$pkgs); \
	done

## slowest: the tests slower than 20 s in the last runs of the loops above (needs gotestsum: go install gotest.tools/gotestsum@v1.13.0)
slowest:
	@for f in $(TIMINGS)/*.json; do [ -s "$$f" ] || continue; echo "== slowest tests: $$(basename "$$f" .json)"; $(GOTESTSUM) tool slowest --jsonfile "$$f" --threshold 20s; done

timings:
	@$(if $(GOTESTSUM),mkdir -p $(TIMINGS),:)

## golden: rewrite golden/ from the templates, then build, vet and test every golden tree
golden:
	$(GO) test -count=1 ./generator -run Golden -update
	cd e2e && $(GO) test -count=1 -run 'TestGoldenTreesBuildVetAndPassTheirTests' .

## deps: rewrite the generated projects' go.mod/go.sum templates from internal/depsgen/pins.txt, and internal/depsgen/inputs.txt, the record of what they were made from
# Every combination is tidied (72 go mod tidy). The check in make full (TestTemplatesAreCurrent)
# tidies only the combinations whose inputs.txt line no longer matches: commit inputs.txt.
deps:
	$(GO) run ./internal/depsgen

## deps-check: fail when a go.mod/go.sum template is stale, tidying every combination whatever inputs.txt says (an audit of the record; depsgen edits and Go upgrades change every key anyway)
deps-check:
	$(GO) run ./internal/depsgen -check -full
