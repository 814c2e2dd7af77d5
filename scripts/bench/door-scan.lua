-- wrk script for Haven's scan API: each request scans the next of the seeded badge
-- tokens (TOKENS file, one per line) with a fresh scan id, as a door device (DEVICE).
-- Prints one line with the rate, latencies and answer counts.

local tokens_file = os.getenv("TOKENS")
local device = os.getenv("DEVICE")
-- The gate the scans are recorded at (the warm-up uses its own, so it is not counted).
local gate = os.getenv("GATE") or "Bench"
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  tokens = {}
  for line in io.lines(tokens_file) do
    tokens[#tokens + 1] = line
  end
  -- Threads start at different places in the list and use different random sequences.
  next_token = (id * 7919) % #tokens + 1
  math.randomseed(os.time() * 1000 + id)
  ok, other = 0, 0
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. device
  wrk.headers["Content-Type"] = "application/json"
end

local function uuid4()
  local hex = "0123456789abcdef"
  local out = {}
  for i = 1, 32 do
    local n = math.random(1, 16)
    out[i] = hex:sub(n, n)
  end
  out[13] = "4"
  local v = math.random(9, 12)
  out[17] = hex:sub(v, v)
  local s = table.concat(out)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20) .. "-" .. s:sub(21, 32)
end

function request()
  local token = tokens[next_token]
  next_token = next_token % #tokens + 1
  local body = '{"token":"' .. token .. '","scan_id":"' .. uuid4() .. '","gate":"' .. gate .. '"}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 and body:find('"result"', 1, true) then
    ok = ok + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local answered, failed = 0, 0
  for _, t in ipairs(threads) do
    answered = answered + t:get("ok")
    failed = failed + t:get("other")
  end
  io.write(string.format(
    "RESULT rate=%.0f p50_ms=%.2f p99_ms=%.2f answered=%d failed=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    answered, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
