-- wrk script: POST a new custom object per request (a unique name per thread and request).
-- Usage: TOKEN=... KIND=Gauge GROUP=bench.example.com wrk -t2 -c16 -d10s --latency -s bench/crd-cel.lua https://HOST:PORT/apis/GROUP/v1/namespaces/default/PLURAL
local counter = 0
local threads = {}

function setup(thread)
  thread:set("prefix", "w" .. #threads .. "-" .. os.time())
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  kind = os.getenv("KIND")
  apiVersion = os.getenv("GROUP") .. "/v1"
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"apiVersion":"' .. apiVersion .. '","kind":"' .. kind .. '","metadata":{"name":"' .. prefix .. '-' .. counter ..
    '"},"spec":{"min":1,"max":50,"name":"gauge","mode":"fast","tags":["t-a","t-b","t-c"],' ..
    '"limits":{"cpu":"500m","memory":"1Gi"},"ports":[{"name":"http","port":80},{"name":"https","port":443}]}}')
end

local errors = 0
function response(status, headers, body)
  if status ~= 201 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non-201: %d (by status), p50 %.2f ms, p99 %.2f ms, %d requests\n",
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests))
end
