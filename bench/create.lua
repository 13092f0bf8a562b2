-- wrk script: POST a new ConfigMap per request (a unique name per thread and request).
-- Usage: TOKEN=... wrk -t2 -c64 -d10s --latency -s bench/create.lua https://HOST:PORT/api/v1/namespaces/default/configmaps
local counter = 0
local threads = {}

function setup(thread)
  thread:set("prefix", (os.getenv("PREFIX") or "w") .. #threads .. "-" .. os.time())
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"metadata":{"name":"' .. prefix .. '-' .. counter .. '"}}')
end

local errors = 0
function response(status, headers, body)
  if status ~= 201 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non-201: %d (by status), p50 %.2f ms, p99 %.2f ms, %d requests\n",
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests))
end
