-- The wrk side of bench/http_compare.sh: one request per call to request(),
-- on a random key of a fixed key space, for mq's REST API or etcd's JSON
-- gateway. Chosen by environment variables (wrk passes no arguments here):
--   API    mq | etcd
--   OP     set | get
--   USERS, KEYS_PER_USER, VALUE_BYTES
--   PART, PARTS  sets walk the keys k with k % PARTS == PART in order (and
--                wrap), so that wrk processes started side by side fill the
--                whole key space once their writes outnumber the keys; gets
--                pick keys at random
-- done() prints one line the script parses:
--   RESULT <requests> <duration_us> <p50_ms> <p99_ms> <errors>
-- where errors counts non-2xx answers and socket errors alike.

local api = os.getenv("API") or "mq"
local op = os.getenv("OP") or "set"
local users = tonumber(os.getenv("USERS") or "100")
local keys_per_user = tonumber(os.getenv("KEYS_PER_USER") or "100")
local value = string.rep("v", tonumber(os.getenv("VALUE_BYTES") or "100"))
local part = tonumber(os.getenv("PART") or "0")
local parts = tonumber(os.getenv("PARTS") or "1")
local next_set = part

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(data)
  return ((data:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

local etcd_value = base64(value)
local mq_body = '{"value":"' .. value .. '"}'

init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

request = function()
  local u, k
  if op == "set" then
    u = math.floor(next_set / keys_per_user)
    k = next_set % keys_per_user
    next_set = next_set + parts
    if next_set >= users * keys_per_user then next_set = part end
  else
    u = math.random(0, users - 1)
    k = math.random(0, keys_per_user - 1)
  end
  if api == "etcd" then
    local key = base64("u" .. u .. "/k" .. k)
    if op == "set" then
      return wrk.format("POST", "/v3/kv/put", { ["Content-Type"] = "application/json" },
        '{"key":"' .. key .. '","value":"' .. etcd_value .. '"}')
    end
    return wrk.format("POST", "/v3/kv/range", { ["Content-Type"] = "application/json" },
      '{"key":"' .. key .. '"}')
  end
  local path = "/api/v1/memory/users/u" .. u .. "/keys/k" .. k
  if op == "set" then
    return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, mq_body)
  end
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.3f %.3f %d\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status + e.connect + e.read + e.write + e.timeout))
end
