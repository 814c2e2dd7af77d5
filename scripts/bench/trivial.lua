-- wrk script for the comparison route (GET /healthz): prints the same figures as door-scan.lua.
function done(summary, latency, requests)
  io.write(string.format(
    "RESULT rate=%.0f p50_ms=%.2f p99_ms=%.2f answered=%d failed=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests - summary.errors.status, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
