#!/usr/bin/env bash
# Pods at scale (issue 15's figures). Not a test: it prints figures and asserts none. Only 127.0.0.1
# is used, and it stops by itself.
#   bench/pods.sh [PODS=5000]
# 1. PODS pods created by 16 clients (label group=g<i%50>, so a selector picks PODS/50), pods/s, and
#    the time until the built-in simulated node has them all Running;
# 2. RSS before and after, and the growth per pod (3 s after the last create, and settled SETTLE=20 s later);
# 3. LIST all pods as JSON, as a Table, by label selector, and by a field selector naming another node
#    (what each other kubelet's list costs: spec.nodeName is indexed) (median and max of RUNS runs);
# 4. WATCHERS watches on pods, and the latency from a write until each watcher read it.
# PORTCULLIS_EXE=path measures another build: a Native AOT executable (`dotnet publish -c Release
# src/Portcullis -o DIR`, then DIR/portcullis) or a .dll run under the JIT (default: this tree's
# Release build, src/Portcullis/bin/Release/net10.0/portcullis.dll).
# Environment knobs: CLIENTS=16 POD_GROUPS=50 RUNS=5 WATCHERS=1000 (0: none) WRITES=20 PROTO=h1|h2 PORT=17040.
set -euo pipefail
cd "$(dirname "$0")/.."
pods=${1:-5000}
clients=${CLIENTS:-16}
groups=${POD_GROUPS:-50}
runs=${RUNS:-5}
watchers=${WATCHERS:-1000}
writes=${WRITES:-20}
proto=${PROTO:-h1}
port=${PORT:-17040}
exe=${PORTCULLIS_EXE:-src/Portcullis/bin/Release/net10.0/portcullis.dll}
[ -f "$exe" ] || dotnet build -c Release src/Portcullis >/dev/null
bench=bench/Portcullis.Bench/bin/Release/net10.0/Portcullis.Bench.dll
dotnet build -c Release bench/Portcullis.Bench >/dev/null
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

serve=(serve --data-dir "$work/data" --secure-port "$port" --bind-address 127.0.0.1)
case "$exe" in
  *.dll) kind=JIT; dotnet "$exe" "${serve[@]}" >"$work/server.log" 2>&1 & ;;
  *) kind=AOT; "$exe" "${serve[@]}" >"$work/server.log" 2>&1 & ;;
esac
server=$!
for _ in $(seq 1 300); do curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
d="$work/data"
url="https://127.0.0.1:$port"
auth="cert=$d/admin.crt:$d/admin.key"
ns=bench
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$server/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }

echo "== $kind server ($exe); $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
sleep 2
before=$(rss_kb)
echo "idle rss $(mib "$before")"

echo "== $pods pods, $clients clients, namespace $ns"
dotnet $bench pods-create "$url" "$auth" "$d/ca.crt" $ns "$pods" "$clients" "$groups"
sleep 3 # let the node's last status writes and the collector settle
after=$(rss_kb)
awk -v b="$before" -v a="$after" -v n="$pods" \
  'BEGIN { printf "rss %.0f MiB -> %.0f MiB: growth %.1f KiB per pod\n", b / 1024, a / 1024, (a - b) / n }'
# A quiet server gives the GC's unused memory back (Hosting/IdleMemoryReturn.cs, after 10 quiet s): the
# growth once settled is what the pods keep.
sleep "${SETTLE:-20}"
settled=$(rss_kb)
awk -v b="$before" -v a="$settled" -v n="$pods" \
  'BEGIN { printf "rss settled %.0f MiB: growth %.1f KiB per pod\n", a / 1024, (a - b) / n }'

echo "== LIST ($runs runs each after one warm-up)"
dotnet $bench pods-list "$url" "$auth" "$d/ca.crt" $ns "$runs" "group=g7" "spec.nodeName=other-node"
echo "rss after the lists $(mib "$(rss_kb)")"

if [ "$watchers" -gt 0 ]; then
  echo "== $watchers watchers, $writes writes"
  dotnet $bench pods-watch "$url" "$auth" "$d/ca.crt" $ns "$watchers" "$writes" "$proto"
  echo "rss after the watchers $(mib "$(rss_kb)")"
fi
echo "peak rss (VmHWM) $(mib "$(hwm_kb)")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "unhandled errors in the server log: $(grep -ciE 'unhandled|exception' "$work/server.log" || true)"
