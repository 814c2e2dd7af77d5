-- wrk script for Haven's scan API: each request scans the next of the seeded badge
-- tokens (TOKENS file, one per line) with a fresh scan id, as a door device (DEVICE).
-- Prints one line with the rate, latencies and answer counts.
--
-- wrk and Haven share the machine's cores, so the script does as little as it can per
-- request: every request is prepared in init() up to the last 12 hex digits of its scan
-- id, which request() appends from a counter, and there is no response() callback
-- (which would make wrk hand every header and body to Lua). A scan id is a version-4
-- UUID whose first 76 bits are random per thread and run, the rest that counter.
-- Answers other than 2xx are counted by wrk as status errors.

local tokens_file = os.getenv("TOKENS")
local device = os.getenv("DEVICE")
-- The gate the scans are recorded at (the warm-up uses its own, so it is not counted).
local gate = os.getenv("GATE") or "Bench"
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  -- SEED tells apart two wrk processes started in the same second (two instances).
  math.randomseed(os.time() * 1000 + (tonumber(os.getenv("SEED")) or 0) * 100 + id)
  local r = function(n) return math.random(0, 16 ^ n - 1) end
  local id_prefix = string.format("%08x-%04x-4%03x-%x%03x-", r(8), r(4), r(3), math.random(8, 11), r(3))
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. device
  wrk.headers["Content-Type"] = "application/json"
  prepared = {}
  local tail = '000000000000"}'
  for token in io.lines(tokens_file) do
    local body = '{"token":"' .. token .. '","gate":"' .. gate .. '","scan_id":"' .. id_prefix .. tail
    local whole = wrk.format(nil, nil, nil, body)
    prepared[#prepared + 1] = whole:sub(1, #whole - #tail)
  end
  -- Threads start at different places in the list.
  next_token = (id * 7919) % #prepared + 1
  sent = 0
end

function request()
  local head = prepared[next_token]
  next_token = next_token % #prepared + 1
  sent = sent + 1
  return head .. string.format('%012x"}', sent)
end

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT rate=%.0f p50_ms=%.2f p99_ms=%.2f answered=%d failed=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests - summary.errors.status, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
