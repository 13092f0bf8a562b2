#!/usr/bin/env bash
# Creating custom objects validated by 20 CEL rules (issue 16's benchmark), against the same kind without
# rules, in one run: throughput and p50/p99 of creates with wrk (-t2 -c16). Usage: bench/crd-cel.sh [binary] [seconds]
# (default: the Native AOT build in .aot/portcullis, 10 s per run). Needs wrk and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.aot/portcullis}
secs=${2:-10}
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
admin=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$admin,bench-admin,bench-admin-uid,system:masters" >"$work/tokens.csv"
"$bin" serve --data-dir "$work/data" --secure-port 17010 --bind-address 127.0.0.1 --token-auth-file "$work/tokens.csv" >/dev/null 2>&1 &
pid=$!
api=https://127.0.0.1:17010
for _ in $(seq 100); do curl -sk -o /dev/null -H "Authorization: Bearer $admin" $api/readyz && break; sleep 0.1; done

# Twenty rules over the spec, its list, map and items: comparisons, string functions, quantifiers, sizes. The schema
# bounds its strings, lists and maps, as a CRD must for rules like these to pass the estimated cost limits.
rules='[
 {"rule":"self.min <= self.max","message":"min must not exceed max"},
 {"rule":"self.max <= 100"},
 {"rule":"self.name.size() <= 16"},
 {"rule":"self.name.matches(\"^[a-z]+$\")"},
 {"rule":"self.mode in [\"fast\", \"slow\"]"},
 {"rule":"self.tags.all(t, t.startsWith(\"t-\"))"},
 {"rule":"self.tags.size() <= 10"},
 {"rule":"self.tags.exists(t, t == \"t-a\")"},
 {"rule":"self.ports.all(p, p.port > 0 && p.port < 65536)"},
 {"rule":"self.ports.exists_one(p, p.name == \"http\")"},
 {"rule":"self.ports.map(p, p.port).size() == self.ports.size()"},
 {"rule":"self.ports.filter(p, p.port < 1024).size() <= 2"},
 {"rule":"has(self.limits) && \"cpu\" in self.limits"},
 {"rule":"self.limits.all(k, k.size() > 0)"},
 {"rule":"!has(self.mode) || self.mode != \"broken\""},
 {"rule":"self.min >= 0"},
 {"rule":"self.max - self.min >= 1"},
 {"rule":"self.name.startsWith(\"g\") || self.name.endsWith(\"x\")"},
 {"rule":"self.tags.size() == 0 || self.tags[0].contains(\"-\")"},
 {"rule":"self.ports.size() >= 1","messageExpression":"\"gauge \" + self.name + \" needs a port\""}
]'
crd() { # name plural kind rules
  cat <<JSON
{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"$2.bench.example.com"},
 "spec":{"group":"bench.example.com","scope":"Namespaced","names":{"plural":"$2","kind":"$3"},
  "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object",
   "x-kubernetes-validations":$4,
   "properties":{"min":{"type":"integer"},"max":{"type":"integer"},"name":{"type":"string","maxLength":16},"mode":{"type":"string","maxLength":8},
    "tags":{"type":"array","maxItems":16,"items":{"type":"string","maxLength":16},"x-kubernetes-list-type":"set"},
    "limits":{"type":"object","maxProperties":8,"additionalProperties":{"type":"string","maxLength":16}},
    "ports":{"type":"array","maxItems":8,"x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
     "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string","maxLength":16},"port":{"type":"integer"}}}}}}}}}}]}}
JSON
}
make_crd() { # plural kind rules
  local code
  code=$(crd x "$1" "$2" "$3" | curl -sk -o "$work/crd.out" -w "%{http_code}" -X POST -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' --data-binary @- $api/apis/apiextensions.k8s.io/v1/customresourcedefinitions)
  [ "$code" = 201 ] || { echo "error: creating CRD $1 answered $code: $(cat "$work/crd.out")" >&2; exit 1; }
}
make_crd gauges Gauge "$rules"
make_crd plains Plain "[]"
for _ in $(seq 100); do curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin" $api/apis/bench.example.com/v1/plains | grep -q 200 && break; sleep 0.1; done
# The rules run: an object that breaks one is refused.
curl -sk -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -X POST $api/apis/bench.example.com/v1/namespaces/default/gauges \
  -d '{"apiVersion":"bench.example.com/v1","kind":"Gauge","metadata":{"name":"bad"},"spec":{"min":9,"max":1,"name":"g","tags":[],"ports":[{"name":"http","port":80}],"limits":{"cpu":"1"}}}' \
  | grep -q 'min must not exceed max' || { echo "error: the CEL rules did not refuse a bad object" >&2; exit 1; }
# Warm-up (the JIT, the stores' caches), then the measured runs.
for p in plains:Plain gauges:Gauge; do
  TOKEN=$admin KIND=${p#*:} GROUP=bench.example.com wrk -t2 -c16 -d2s -s bench/crd-cel.lua $api/apis/bench.example.com/v1/namespaces/default/${p%:*} >/dev/null
done
echo "== load: $(cat /proc/loadavg)"
for k in "plains Plain 0" "gauges Gauge 20" "plains Plain 0" "gauges Gauge 20"; do
  set -- $k
  echo "== create $2 ($3 CEL rules) with wrk -t2 -c16, ${secs} s"
  TOKEN=$admin KIND=$2 GROUP=bench.example.com wrk -t2 -c16 -d"${secs}s" --latency -s bench/crd-cel.lua \
    $api/apis/bench.example.com/v1/namespaces/default/$1 | grep -E 'Requests/sec|non-201'
done
