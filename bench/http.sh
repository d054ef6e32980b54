#!/usr/bin/env bash
# http.sh OUTDIR [ROUNDS] [SECONDS]: make bench-http.
#
# wrk against examples/httpd (row rawpoll) and the peer servers of
# bench/peers (net/http, fasthttp, gnet), servers in alternation (the order
# rotates every round), ROUNDS rounds (default 3). Each server is started
# fresh per round, warmed up for 1 s, then measured for SECONDS (default 3)
# at each load of HTTP_LOADS (default "plaintext:16 plaintext:1 json:1":
# path:pipeline depth; TechEmpower pipelines plaintext 16 deep and json not
# at all) with HTTP_CONNS (64) connections, through bench/peers/wrk.lua.
# Prints one table of medians with [min..max]: requests/s; p50 and p99 of
# the latencies wrk recorded (one per request, or per 16-request batch when
# pipelined: wrk times a batch from its write to its last answer), which
# wrk.lua recovers from under wrk's coordinated-omission correction (that
# correction makes up samples, wrongly so when pipelined, where wrk prints
# 0.00us for p99; wrk's own table stays in wrk-runs.txt); and the server's
# CPU time per request, utime+stime from /proc/PID/stat across the
# measured run divided by the requests wrk counted. wrk's socket errors and
# non-2xx answers are counted in "errs".
#
# This machine has 2 cores that wrk and the server share, so CPU per
# request is what ranks servers; requests/s mostly says how the two split
# the machine. wrk runs HTTP_WRK_THREADS (default 1) threads, leaving the
# other core to the server. Each server runs with one core's worth
# (GOMAXPROCS=1, -loops 1: the -1 rows) and with the whole machine
# (GOMAXPROCS=2, -loops 2: the -2 rows); -loops is the event-loop count for
# rawpoll and gnet and GOMAXPROCS again for net/http and fasthttp.
#
# Before any measurement every server goes through bench/peers/httpcheck
# (exact bodies and headers, 16 pipelined requests answered in order, a
# request split at every byte): a server that fails is not measured and the
# script exits 1.
set -euo pipefail
out=$1 rounds=${2:-3} secs=${3:-3}
threads=${HTTP_WRK_THREADS:-1}
conns=${HTTP_CONNS:-64}
loads=${HTTP_LOADS:-plaintext:16 plaintext:1 json:1}

if ! command -v wrk >/dev/null 2>&1; then
	echo "################################################################"
	echo "SKIP: make bench-http: wrk not found (apt-get install wrk)"
	echo "################################################################"
	exit 0
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
lua=$(pwd)/bench/peers/wrk.lua
go -C bench/peers build -o "$out/" ./nethttp ./fasthttp ./gnet ./cmd/httpcheck

peers="net fasthttp gnet"
if [ -d examples/httpd ]; then
	go build -o "$out/httpd" ./examples/httpd
	kinds="rawpoll $peers"
else
	echo "################################################################"
	echo "NOTE: examples/httpd does not exist yet: the rawpoll rows are NOT RUN,"
	echo "      only the peers are measured"
	echo "################################################################"
	kinds=$peers
fi
servers=""
for n in 1 2; do for k in $kinds; do servers="$servers $k-$n"; done; done

clk=$(getconf CLK_TCK)
port=17200
pid=
start() { # name: starts a server on a fresh port, sets pid and addr
	port=$((port + 1))
	addr=127.0.0.1:$port
	local n=${1##*-} bin
	case ${1%-*} in
	rawpoll) bin=httpd ;;
	net) bin=nethttp ;;
	fasthttp) bin=fasthttp ;;
	gnet) bin=gnet ;;
	esac
	GOMAXPROCS=$n "$out/$bin" -addr "$addr" -loops "$n" >"$out/server-$1.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do # wait (bounded) until it accepts
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "http.sh: $1 did not start (see $out/server-$1.log)" >&2
	return 1
}
stop() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	pid=
}
trap 'stop' EXIT
cputicks() { sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }'; } # utime+stime, all threads

wrkrun() { # path depth seconds: wrk at the server, its output on stdout
	wrk -t "$threads" -c "$conns" -d "$3s" --timeout 8s --latency -s "$lua" \
		-H 'Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7' \
		-H 'Connection: keep-alive' "http://$addr/$1" -- "$2" "$conns"
}

echo "checking every server answers TechEmpower's tests exactly (bench/peers/httpcheck)"
for s in $servers; do
	start "$s"
	if ! "$out/httpcheck" -addr "$addr"; then
		echo "FAIL: $s does not answer TechEmpower's plaintext/json tests correctly: its numbers would mean nothing" >&2
		exit 1
	fi
	stop
	echo "  $s ok"
done

set -- $servers
nserv=$#
: >"$out/http-runs.txt"
: >"$out/wrk-runs.txt"
for r in $(seq "$rounds"); do
	# Rotate the order every round so no server always runs first or last.
	order=$(echo $servers | tr ' ' '\n' | awk -v r="$r" -v n="$nserv" '{ a[NR] = $0 } END { for (i = 0; i < n; i++) print a[(i + r - 1) % n + 1] }')
	for s in $order; do
		start "$s"
		wrkrun plaintext 16 1 >/dev/null # warm-up
		for l in $loads; do
			path=${l%:*} depth=${l#*:}
			t0=$(cputicks)
			wrkrun "$path" "$depth" "$secs" >"$out/wrk.txt"
			t1=$(cputicks)
			line=$(awk -v t="$((t1 - t0))" -v clk="$clk" '
				$1 == "raw-latency" && $2 != "ERROR" { for (i = 2; i <= NF; i++) { split($i, kv, "="); lat[kv[1]] = kv[2] + 0 }; ok = 1 }
				$2 == "requests" && $3 == "in" { n = $1 }
				/^Requests\/sec:/ { rps = $2 }
				/Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
				/Non-2xx or 3xx responses:/ { errs += $NF }
				END { if (n == 0 || !ok) { print "ERROR"; exit }
					printf "reqs/s=%s p50=%dus p99=%dus cpu/req=%.3fus requests=%d errs=%d", rps, lat["p50"], lat["p99"], t / clk / n * 1e6, n, errs + 0 }' "$out/wrk.txt")
			{ echo "== round=$r server=$s load=$path/p$depth"; cat "$out/wrk.txt"; } >>"$out/wrk-runs.txt"
			if [ "$line" = ERROR ]; then
				echo "http.sh: wrk counted no requests or its latencies did not add up, against $s:" >&2
				cat "$out/wrk.txt" >&2
				exit 1
			fi
			echo "round=$r server=$s load=$path/p$depth $line" | tee -a "$out/http-runs.txt" >&2
		done
		stop
	done
done

echo
echo "http servers: medians of $rounds interleaved rounds [min..max], ${secs}s each after 1s warm-up;"
echo "$conns connections, wrk -t $threads; p50/p99 of a whole batch when pipelined (p16)"
awk '
function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
	return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
function cell(k, name, f,   n, i, v, mn, mx) { n = cnt[k]; if (n == 0) return "-"
	mn = 1e18; mx = -1; for (i = 1; i <= n; i++) { v[i] = val[k, name, i] + 0; if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i] }
	return sprintf(f " [" f ".." f "]", med(v, n), mn, mx) }
function median(k, name,   n, i, v) { n = cnt[k]; for (i = 1; i <= n; i++) v[i] = val[k, name, i] + 0; return med(v, n) }
{
	for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	k = f["load"] SUBSEP f["server"]
	if (!(f["load"] in seen)) { seen[f["load"]] = 1; ld[++nl] = f["load"] }
	if (!(k in cnt)) cnt[k] = 0
	n = ++cnt[k]
	val[k, "rps", n] = f["reqs/s"] / 1000
	sub(/us$/, "", f["p50"]); sub(/us$/, "", f["p99"]); sub(/us$/, "", f["cpu/req"])
	val[k, "p50", n] = f["p50"]; val[k, "p99", n] = f["p99"]; val[k, "cpu", n] = f["cpu/req"]
	errs[k] += f["errs"]
}
END {
	# By load, then cores, then server, as $servers lists them.
	ns = split(servers, sv, " "); nk = 0
	for (i = 1; i <= nl; i++) for (j = 1; j <= ns; j++) if ((ld[i] SUBSEP sv[j]) in cnt) order[++nk] = ld[i] SUBSEP sv[j]
	printf "%-14s %-11s %-22s %-26s %-28s %-22s %-9s %s\n", "load", "server", "kreq/s", "p50 us", "p99 us", "cpu/req us", "cpu/net", "errs"
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, p, SUBSEP)
		ratio = "-"
		nkey = p[1] SUBSEP "net-" substr(p[2], length(p[2]))
		if (p[2] !~ /^net-/ && (nkey in cnt) && median(nkey, "cpu") > 0) ratio = sprintf("%.2fx", median(k, "cpu") / median(nkey, "cpu"))
		printf "%-14s %-11s %-22s %-26s %-28s %-22s %-9s %d\n", p[1], p[2], cell(k, "rps", "%.0f"), cell(k, "p50", "%.0f"), cell(k, "p99", "%.0f"), cell(k, "cpu", "%.3f"), ratio, errs[k]
	}
}' servers="$servers" "$out/http-runs.txt" | tee "$out/http-table.txt"
