#!/usr/bin/env bash
# echo.sh OUTDIR [ROUNDS] [SECONDS]: make bench-echo.
#
# Runs bench/echoload against examples/echo on epoll (rawpoll-N), the same
# on io_uring through its rings (uring-N, -backend io_uring) and the
# net-package reference server (bench/echoload/netserver, net-N), servers
# in alternation, ROUNDS rounds (default 3) of SECONDS measured seconds
# (default 3, after 1 s of warm-up) at (C=1, 64 B), (C=64, 64 B) and
# (C=256, 512 B), then prints one table of medians with [min..max] (CPU
# per message of rawpoll against net and of uring against rawpoll, on the
# same cores), and counts syscalls per message at C=1 and C=64 with perf's
# raw_syscalls:sys_enter tracepoint (untraced: no ptrace slowing the
# server down), per type. ECHO_SERVERS picks a subset. ECHO_OLD=BINARY
# adds old-1 and old-2: another build of examples/echo (an earlier commit's,
# for a before/after in the same interleaved rounds), run with -addr and
# -loops only.
#
# This machine has 2 cores and the generator takes one, so each server runs
# both with the whole machine (rawpoll -loops 2, net GOMAXPROCS=2) and with
# one core's worth (rawpoll -loops 1, net GOMAXPROCS=1).
set -euo pipefail
out=$1 rounds=${2:-3} secs=${3:-3}
mkdir -p "$out"
go build -o "$out/echo" ./examples/echo
go build -o "$out/netserver" ./bench/echoload/netserver
go build -o "$out/echoload" ./bench/echoload

port=17100
start() { # name cmd...: starts a server on a fresh port, sets pid and addr
	port=$((port + 1))
	addr=127.0.0.1:$port
	case $1 in
	rawpoll-1) "$out/echo" -addr "$addr" -loops 1 -backend epoll >/dev/null & ;;
	rawpoll-2) "$out/echo" -addr "$addr" -loops 2 -backend epoll >/dev/null & ;;
	uring-1) "$out/echo" -addr "$addr" -loops 1 -backend io_uring >/dev/null & ;;
	uring-2) "$out/echo" -addr "$addr" -loops 2 -backend io_uring >/dev/null & ;;
	old-1) "$ECHO_OLD" -addr "$addr" -loops 1 >/dev/null & ;;
	old-2) "$ECHO_OLD" -addr "$addr" -loops 2 >/dev/null & ;;
	net-1) GOMAXPROCS=1 "$out/netserver" -addr "$addr" >/dev/null & ;;
	net-2) GOMAXPROCS=2 "$out/netserver" -addr "$addr" >/dev/null & ;;
	esac
	pid=$!
	for _ in $(seq 50); do # wait (bounded) until it accepts
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "echo.sh: $1 did not start" >&2
	return 1
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap 'stop' EXIT

# ECHO_SERVERS picks a subset; uring-N is examples/echo -backend io_uring
# (through the rings), rawpoll-N the same binary on epoll.
servers=${ECHO_SERVERS:-"rawpoll-1 uring-1 net-1 rawpoll-2 uring-2 net-2${ECHO_OLD:+ old-1 old-2}"}
: >"$out/echo-runs.txt"
for r in $(seq "$rounds"); do
	for cfg in "1 64" "64 64" "256 512"; do
		set -- $cfg
		for s in $servers; do
			start "$s"
			line=$("$out/echoload" -addr "$addr" -c "$1" -size "$2" -warmup 1s -duration "${secs}s" -pid "$pid")
			stop
			echo "round=$r server=$s $line" | tee -a "$out/echo-runs.txt" >&2
		done
	done
done

echo
echo "echo servers: medians of $rounds interleaved rounds [min..max], ${secs}s each after 1s warm-up"
awk '
function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
	return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
function cell(k, name,   n, i, v, mn, mx) { n = cnt[k]; if (n == 0) return "-"
	mn = 1e18; mx = -1; for (i = 1; i <= n; i++) { v[i] = val[k, name, i] + 0; if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i] }
	return sprintf("%.1f [%.1f..%.1f]", med(v, n), mn, mx) }
{
	key = ""; for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	k = f["c"] SUBSEP f["size"] SUBSEP f["server"]
	if (!(k in cnt)) { order[++nk] = k; cnt[k] = 0 }
	n = ++cnt[k]
	val[k, "msgs", n] = f["msgs/s"] / 1000
	sub(/us$/, "", f["p50"]); sub(/us$/, "", f["p99"]); sub(/us$/, "", f["cpu/msg"])
	val[k, "p50", n] = f["p50"]; val[k, "p99", n] = f["p99"]; val[k, "cpu", n] = f["cpu/msg"]
}
END {
	printf "%-12s %-10s %-24s %-24s %-26s %-22s %s\n", "load", "server", "kmsgs/s", "p50 us", "p99 us", "cpu/msg us", "cpu ratio, same cores"
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, p, SUBSEP)
		ratio = "-"; nk2 = ""
		if (p[3] ~ /^rawpoll-/) nk2 = p[1] SUBSEP p[2] SUBSEP "net-" substr(p[3], 9)      # epoll against net
		if (p[3] ~ /^uring-/) nk2 = p[1] SUBSEP p[2] SUBSEP "rawpoll-" substr(p[3], 7)    # io_uring against epoll
		if (p[3] ~ /^old-/) nk2 = p[1] SUBSEP p[2] SUBSEP "net-" substr(p[3], 5)          # the other build against net
		if (nk2 != "" && (nk2 in cnt)) {
			for (j = 1; j <= cnt[k]; j++) a[j] = val[k, "cpu", j] + 0; mr = med(a, cnt[k])
			for (j = 1; j <= cnt[nk2]; j++) b[j] = val[nk2, "cpu", j] + 0; mn = med(b, cnt[nk2])
			split(nk2, q, SUBSEP)
			if (mn > 0) ratio = sprintf("%.2fx %s", mr / mn, q[3])
		}
		printf "%-12s %-10s %-24s %-24s %-26s %-22s %s\n", "c=" p[1] " " p[2] "B", p[3], cell(k, "msgs"), cell(k, "p50"), cell(k, "p99"), cell(k, "cpu"), ratio
	}
}' "$out/echo-runs.txt" | tee "$out/echo-table.txt"

echo
if ! command -v perf >/dev/null 2>&1 || ! perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1; then
	echo "SKIP: syscalls per message not counted: perf with syscall tracepoints is not available here (apt-get install linux-perf)"
	exit 0
fi
echo "syscalls per echoed message, 64 B (perf stat -e raw_syscalls:sys_enter and syscalls:sys_enter_* on the server process, untraced, ${secs}s):"
events='raw_syscalls:sys_enter,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_epoll_pwait2,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_futex,syscalls:sys_enter_nanosleep,syscalls:sys_enter_sched_yield'
for c in 1 64; do
	for s in $servers; do
		start "$s"
		perf stat -x, -e "$events" -o "$out/perf-$s-$c.csv" -p "$pid" -- \
			"$out/echoload" -addr "$addr" -c "$c" -size 64 -warmup 0s -duration "${secs}s" >"$out/perf-$s-$c.load"
		stop
		msgs=$(awk -v d="$secs" '{ for (i = 1; i <= NF; i++) if ($i ~ /^msgs\/s=/) { sub(/msgs\/s=/, "", $i); print $i * d } }' "$out/perf-$s-$c.load")
		awk -F, -v m="$msgs" -v s="$s" -v c="$c" '
			$3 ~ /sys_enter/ { n = $3; sub(/.*sys_enter_?/, "", n); if (n == "") n = "all"; v[n] = $1; order[++k] = n }
			END { printf "  c=%-3d %-10s %6.2f syscalls/msg (", c, s, v["all"] / m
				sep = ""; for (i = 2; i <= k; i++) if (v[order[i]] > 0) { printf "%s%s %.2f", sep, order[i], v[order[i]] / m; sep = ", " }
				printf ") over %d msgs\n", m }' "$out/perf-$s-$c.csv"
	done
done | tee "$out/echo-syscalls.txt"
