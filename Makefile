# rawpoll: `make test` is what CI runs; `make bench` is the benchstat
# comparison against golang.org/x/sys/unix. Only Go is needed: benchstat and
# staticcheck come from the go.mod tool lines.

GO          ?= go
BENCH_COUNT ?= 10
BENCH_TIME  ?= 1s
BENCH_RUN   ?= .
FUZZTIME    ?= 30s
OUT         ?= bench/out

# Platforms built and vetted (and whose test binaries are linked) on every
# test run, with CGO_ENABLED=0.
CROSS := linux/arm64 darwin/arm64 darwin/amd64 freebsd/amd64 freebsd/arm64 \
         netbsd/amd64 openbsd/amd64 openbsd/arm64 dragonfly/amd64

export CGO_ENABLED := 0

.PHONY: test test-amd64 test-arm64 cross lint bench bench-smoke bench-compare fuzz

test: lint cross test-amd64 test-arm64 bench-smoke
	@echo "make test: all passed"

# The race detector needs cgo on linux/amd64; everything else stays cgo-free.
test-amd64:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...
	$(GO) test -count=1 ./...

# The same suites for real on linux/arm64 under qemu-user. qemu-user has no
# epoll_pwait2, so the millisecond fallback is what runs there.
test-arm64:
	@if command -v qemu-aarch64-static >/dev/null 2>&1; then \
		GOARCH=arm64 $(GO) test -count=1 -exec qemu-aarch64-static ./...; \
	elif [ -n "$$RAWPOLL_REQUIRE_QEMU" ]; then \
		echo "FAIL: qemu-aarch64-static not found and RAWPOLL_REQUIRE_QEMU is set"; exit 1; \
	else \
		echo "################################################################"; \
		echo "SKIP: linux/arm64 suite NOT RUN: qemu-aarch64-static not found"; \
		echo "      (apt-get install -y qemu-user-static, or run .ci/run)"; \
		echo "################################################################"; \
	fi

cross:
	@set -e; for t in $(CROSS); do \
		os=$${t%/*}; arch=$${t#*/}; echo "cross: $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch $(GO) build ./...; \
		GOOS=$$os GOARCH=$$arch $(GO) vet ./...; \
		GOOS=$$os GOARCH=$$arch $(GO) test -c -o $(OUT)/cross/$$os-$$arch/ ./... >/dev/null; \
	done

lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$fmt" ]; then echo "gofmt needed: $$fmt"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# Each round runs every benchmark once, so the impls alternate and drift on
# this noisy 2-core VM hits them equally; the raw output is kept in
# $(OUT)/bench.txt.
bench:
	@mkdir -p $(OUT)
	$(GO) test -c -o $(OUT)/bench.test ./bench
	@: > $(OUT)/bench.txt
	@for i in $$(seq $(BENCH_COUNT)); do \
		echo "bench: round $$i/$(BENCH_COUNT)" >&2; \
		$(OUT)/bench.test -test.run '^$$' -test.bench '$(BENCH_RUN)' -test.benchtime $(BENCH_TIME) >> $(OUT)/bench.txt || exit 1; \
	done
	$(GO) tool benchstat -col /impl $(OUT)/bench.txt
	$(GO) run ./bench/cmd/benchgate $(OUT)/bench.txt

# CI's part of the gate: every benchmark once (-benchtime=1x) and only the
# allocation check; one sample says nothing about time on a noisy VM.
bench-smoke:
	@mkdir -p $(OUT)
	$(GO) test -run '^$$' -bench . -benchtime=1x ./bench > $(OUT)/smoke.txt || { cat $(OUT)/smoke.txt; exit 1; }
	$(GO) run ./bench/cmd/benchgate -allocs-only $(OUT)/smoke.txt

# This run against the baseline measured on the development VM
# (testdata/bench/linux-amd64.txt); different machines show up as
# different cpu-* configuration in the table.
BASELINE ?= testdata/bench/linux-amd64.txt
bench-compare: bench
	$(GO) tool benchstat base=$(BASELINE) new=$(OUT)/bench.txt

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzOps -fuzztime $(FUZZTIME) ./selector
