#!/usr/bin/env bash
# rounds.sh BIN OUT COUNT BENCHTIME [FILTER]
#
# Runs the benchmarks of test binary BIN that match FILTER, COUNT rounds,
# appending to OUT. Each round is one process with RAWPOLL_BENCH_ROUND set,
# which shuffles the order of each benchmark's impl=... sub-benchmarks
# (bench/main_test.go), so no impl always runs first or after the same
# neighbour. (One process per sample was tried: it removed the order
# effect but measured ±20% noise, against ±2-5% in one process.)
set -euo pipefail
bin=$1 out=$2 count=$3 benchtime=$4 filter=${5:-.}
: >"$out"
for round in $(seq "$count"); do
	echo "bench: round $round/$count" >&2
	RAWPOLL_BENCH_ROUND=$round "$bin" -test.run '^$' -test.bench "$filter" -test.benchtime "$benchtime" >>"$out"
done
