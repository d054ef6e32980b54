#!/usr/bin/env bash
# tables.sh GO FILE
#
# Prints what make bench shows of FILE: the rawsys-against-xsys table of
# every benchmark that has both, then, as a table of its own, the floor
# rows some benchmarks carry (impl=rawsys-blocking: the scheduler-aware
# form; impl=stub: the bare assembly stub in a loop; impl=syscall:
# syscall.RawSyscall6), each against impl=rawsys. Time only: allocations
# are judged by benchgate, and their all-zero tables say nothing. FILE
# itself keeps every row for benchstat's full output.
set -euo pipefail
go=$1 file=$2
"$go" tool benchstat -filter '.unit:sec/op /impl:(rawsys OR xsys)' -col '/impl@(rawsys xsys)' "$file"
floors=$(grep -oE '^Benchmark[^ /]+(/[^ ]*)?/impl=(rawsys-blocking|stub|syscall)' "$file" |
	sed -E 's/^Benchmark([^/ ]+).*/\1/' | sort -u | paste -sd' ' - | sed 's/ / OR /g')
if [ -n "$floors" ]; then
	echo
	echo "Floors: the same call without the selector (impl=stub, impl=syscall) and scheduler-aware (impl=rawsys-blocking)"
	"$go" tool benchstat -filter ".unit:sec/op .name:($floors) /impl:(rawsys OR rawsys-blocking OR stub OR syscall)" \
		-col '/impl@(rawsys rawsys-blocking stub syscall)' "$file" | sed -n '/│/,$p'
fi
