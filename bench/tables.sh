#!/usr/bin/env bash
# tables.sh GO FILE
#
# Prints what make bench shows of FILE: the rawsys-against-xsys table of
# every benchmark that has both, then one table per group of other rows,
# each against impl=rawsys and only for the benchmarks that have them:
#   floors     impl=rawsys-blocking (the scheduler-aware stub a blocking
#              Select uses), impl=stub (the bare assembly stub in a loop),
#              impl=syscall (syscall.RawSyscall6)
#   loops      impl=xsys-loop (x/sys one call per message where rawsys
#              makes one batch call)
#   net        impl=net (package net's Conn)
#   io_uring   impl=uring (the selector on its io_uring backend)
# Time only: allocations are judged by benchgate, and their all-zero
# tables say nothing. FILE itself keeps every row for benchstat's full
# output.
set -euo pipefail
go=$1 file=$2
"$go" tool benchstat -filter '.unit:sec/op /impl:(rawsys OR xsys)' -col '/impl@(rawsys xsys)' "$file"

group() { # title impl...
	local title=$1
	shift
	local alt names impls
	alt=$(printf '%s|' "$@")
	alt=${alt%|}
	names=$(grep -oE "^Benchmark[^ /]+(/[^ ]*)?/impl=($alt)-?[0-9]* " "$file" |
		sed -E 's/^Benchmark([^/ ]+).*/\1/' | sort -u | paste -sd' ' - | sed 's/ / OR /g') || true
	[ -n "$names" ] || return 0
	impls=$(printf ' OR %s' "$@")
	echo
	echo "$title"
	"$go" tool benchstat -filter ".unit:sec/op .name:($names) /impl:(rawsys$impls)" \
		-col "/impl@(rawsys $*)" "$file" | sed -n '/│/,$p'
}
group "Floors: the same call without the selector (impl=stub, impl=syscall) and scheduler-aware (impl=rawsys-blocking)" rawsys-blocking stub syscall
group "Batches against x/sys one call per message (impl=xsys-loop)" xsys-loop
group "Against package net (impl=net)" net
group "The io_uring backend (impl=uring) against epoll (impl=rawsys)" uring
