-- wrk script for every bench run: prints p99.9 (wrk --latency stops at p99) and, when
-- BENCH_BODY_BYTES is set, sends each request as a POST with a body of that many bytes.
local bytes = tonumber(os.getenv("BENCH_BODY_BYTES") or "")
if bytes ~= nil and bytes > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("x", bytes)
  wrk.headers["Content-Type"] = "application/octet-stream"
end

function done(summary, latency, requests)
  -- latency is in microseconds
  io.write(string.format("p99.9: %dus\n", latency:percentile(99.9)))
end
