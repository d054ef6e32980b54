#!/usr/bin/env bash
# rounds.sh BIN OUT COUNT BENCHTIME [FILTER]
#
# Runs every sub-benchmark of the test binary BIN that matches FILTER,
# COUNT times, each in its own process and in a new random order every
# round, appending the output to OUT. A fixed order lets one impl always
# follow the same neighbour (the first make bench runs showed impl=rawsys,
# always run first and right after the previous round's ping-pong, ~10%
# slower than an isolated run); shuffling spreads that drift over every
# impl alike.
set -euo pipefail
bin=$1 out=$2 count=$3 benchtime=$4 filter=${5:-.}

# The full names, from one quick pass (the "-N" GOMAXPROCS suffix dropped).
names=$("$bin" -test.run '^$' -test.bench "$filter" -test.benchtime 1x |
	awk '/^Benchmark/ { sub(/-[0-9]+$/, "", $1); print $1 }')
[ -n "$names" ] || { echo "rounds.sh: no benchmark matches $filter" >&2; exit 1; }

: >"$out"
for round in $(seq "$count"); do
	echo "bench: round $round/$count" >&2
	for name in $(shuf -e $names); do
		# Benchmark/a=b/impl=x -> ^Benchmark$/^a=b$/^impl=x$ (one regexp per level)
		pat="^$(printf '%s' "$name" | sed -e 's/[][().*+?^$|\\{}]/\\&/g' -e 's#/#$/^#g')\$"
		"$bin" -test.run '^$' -test.bench "$pat" -test.benchtime "$benchtime" >>"$out"
	done
done
