-- wrk script for scripts/bench-proxy.sh.
--
-- Environment:
--   BENCH_BODY_FILE  request body (a chat completion request)          required
--   BENCH_FIXTURE    sent as X-Bench-Fixture (the origin picks "stream")  optional
--   BENCH_RATE       total requests/s to aim for; 0 or unset = as fast as possible
--   BENCH_THREADS    wrk's -t, to split BENCH_RATE between threads
--
-- With BENCH_RATE, each wrk thread hands out send times on a fixed schedule (one slot every
-- threads/rate seconds) through wrk's delay() hook, so the offered load is constant as long
-- as enough connections are idle; latency is still timed from the write of each request.
-- done() prints one machine-readable line, "BENCH key=value ...", latencies in µs.

local function read_file(path)
   local f = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
   local data = f:read("*a")
   f:close()
   return data
end

local body = read_file(os.getenv("BENCH_BODY_FILE"))
local fixture = os.getenv("BENCH_FIXTURE") or ""
local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
local threads = tonumber(os.getenv("BENCH_THREADS") or "1") or 1

local headers = {
   ["Content-Type"] = "application/json",
   ["Authorization"] = "Bearer sk-bench-0000000000000000000000000000000000000001",
}
if fixture ~= "" then headers["X-Bench-Fixture"] = fixture end

local request_bytes

function init(args)
   request_bytes = wrk.format("POST", nil, headers, body)
end

function request()
   return request_bytes
end

if rate > 0 then
   local ffi = require("ffi")
   ffi.cdef [[
      typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
      int clock_gettime(int clock_id, bench_timespec *tp);
   ]]
   local ts = ffi.new("bench_timespec")
   local function now_ms()
      ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
      return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
   end
   local interval_ms = 1000 * threads / rate
   local next_slot = nil

   function delay()
      local now = now_ms()
      if next_slot == nil or next_slot < now - 100 then next_slot = now end -- no catch-up bursts
      local wait = next_slot - now
      next_slot = next_slot + interval_ms
      if wait < 0 then wait = 0 end
      -- wrk's timers take whole milliseconds; the schedule itself keeps fractional time.
      return math.floor(wait + 0.5)
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
      "err_connect=%d err_read=%d err_write=%d err_timeout=%d non2xx=%d\n",
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.timeout, e.status))
end
