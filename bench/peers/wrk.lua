-- wrk.lua: the wrk script of make bench-http (bench/http.sh).
-- Usage: wrk -s bench/peers/wrk.lua URL -- DEPTH CONNECTIONS
--
-- Pipelining: each connection sends DEPTH (default 16) copies of the request
-- in one write, as TechEmpower's plaintext runs do; wrk counts the requests
-- in that string and writes the next batch once all their answers are in.
-- The batch is built once (wrk.format is replaced before wrk.init asks it
-- for the request), so no Lua runs per request.
--
-- Latency: done() prints the percentiles of the latencies wrk recorded, one
-- per batch (from the batch's write to its last answer), as a line
--   raw-latency samples=N p50=Xus p99=Yus
-- wrk's own table is not used: before printing it, wrk 4.1 "corrects" for
-- coordinated omission (stats_correct in src/stats.c, called from main in
-- src/wrk.c) by adding, for every sample n at or above twice
-- interval = duration / (responses / connections), made-up samples at
-- n - interval, n - 2*interval, ... down to above interval. Pipelined,
-- responses count 16 per recorded sample, so the interval is 16 times too
-- short, most samples are made up, and some land below the histogram's
-- minimum, where wrk's percentile loop never looks: it prints 0.00us for
-- p90 and p99. This script undoes that correction exactly, reading wrk's
-- histogram (struct stats in src/stats.h, unchanged since 4.1.0) through
-- LuaJIT's FFI, and checks the recovered sample count against the batches
-- wrk completed; on a mismatch it prints raw-latency ERROR.
local ffi = require("ffi")
ffi.cdef [[
typedef struct {
	uint64_t count;
	uint64_t limit;
	uint64_t min;
	uint64_t max;
	uint64_t data[];
} wrk_stats;
]]

-- init runs in each wrk thread's Lua state, done in the main one, which
-- reads the arguments back through the threads setup saw.
local threads = {}

setup = function(thread)
	threads[#threads + 1] = thread
end

init = function(args)
	depth = tonumber(args[1]) or 16 -- globals, for done
	conns = tonumber(args[2]) or 1
	local format = wrk.format
	local r = {}
	for i = 1, depth do
		r[i] = format()
	end
	local batch = table.concat(r)
	wrk.format = function()
		return batch
	end
end

done = function(summary, latency, requests)
	local depth, conns = threads[1]:get("depth"), threads[1]:get("conns")
	local s = ffi.cast("wrk_stats **", latency)[0]
	local min, max = tonumber(s.min), tonumber(s.max)
	local perconn = math.floor(summary.requests / conns)
	local interval = 0
	if perconn > 0 then
		interval = math.floor(summary.duration / perconn)
	end
	-- For n > interval, data[n] = raw[n] + above[n], where above[n], the
	-- sum of raw[n + k*interval] over k >= 1, is raw[n + interval] +
	-- above[n + interval]: one pass from the top recovers raw.
	local raw, above, total = {}, {}, 0
	for n = max, min, -1 do
		local v = tonumber(s.data[n])
		if interval > 0 and n > interval and n + interval <= max then
			above[n] = raw[n + interval] + (above[n + interval] or 0)
			v = v - above[n]
		end
		raw[n] = v
		total = total + v
	end
	local batches = summary.requests / depth
	if max < min or total < batches - conns - 1 or total > batches + 1 then
		io.write(string.format("raw-latency ERROR samples=%d batches=%.0f\n", total, batches))
		return
	end
	local function pct(p)
		local rank, seen = math.ceil(total * p / 100), 0
		for n = min, max do
			seen = seen + raw[n]
			if seen >= rank then
				return n
			end
		end
		return max
	end
	io.write(string.format("raw-latency samples=%d p50=%dus p99=%dus\n", total, pct(50), pct(99)))
end
