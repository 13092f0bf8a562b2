#!/usr/bin/env bash
# Writes per second and latency on each storage backend: 64 clients creating ConfigMaps (wrk and bench/create.lua,
# a static token in system:masters) against
#   1. one Portcullis on SQLite (the default),
#   2. one Portcullis on etcd (one member),
#   3. three Portcullis replicas on the same etcd, the 64 clients split over them (22 + 21 + 21),
#   4. three replicas on a three-member etcd cluster.
# Not a test: it prints figures and asserts none. Usage: bench/etcd.sh [SECONDS=10]; AOT=path/to/portcullis skips the
# publish. Everything listens on 127.0.0.1; etcd is Debian's etcd-server (/usr/bin/etcd).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "error: wrk is needed (apt-get install wrk)" >&2; exit 1; }
command -v etcd >/dev/null || { echo "error: etcd is needed (apt-get install etcd-server)" >&2; exit 1; }
if [ -z "${AOT:-}" ]; then
  dotnet publish -c Release src/Portcullis -o "$work/aot" >/dev/null
  AOT=$work/aot/portcullis
fi
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token,bench-admin,bench-admin-uid,system:masters" >"$work/tokens.csv"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"

# etcd MEMBERS NAME BASEPORT: starts a cluster; prints the client URLs.
start_etcd() {
  local n=$1 name=$2 base=$3 cluster="" urls=""
  for i in $(seq 0 $((n - 1))); do cluster+="${cluster:+,}m$i=http://127.0.0.1:$((base + 2 * i + 1))"; done
  for i in $(seq 0 $((n - 1))); do
    local c=$((base + 2 * i)) p=$((base + 2 * i + 1))
    etcd --name m$i --data-dir "$work/$name-m$i" --listen-client-urls http://127.0.0.1:$c --advertise-client-urls http://127.0.0.1:$c \
      --listen-peer-urls http://127.0.0.1:$p --initial-advertise-peer-urls http://127.0.0.1:$p --initial-cluster "$cluster" \
      --initial-cluster-token "$name" --initial-cluster-state new --logger zap --log-level error >"$work/$name-m$i.log" 2>&1 &
    urls+="${urls:+,}http://127.0.0.1:$c"
  done
  for u in ${urls//,/ }; do until curl -s "$u/health" | grep -q '"health":"true"'; do sleep 0.1; done; done
  echo "$urls"
}

# serve DIR PORT [FLAGS...]: one replica; waits for /readyz.
serve() {
  local dir=$1 port=$2; shift 2
  "$AOT" serve --data-dir "$dir" --secure-port "$port" --bind-address 127.0.0.1 --token-auth-file "$work/tokens.csv" "$@" >"$dir.log" 2>&1 &
  until curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.1; done
}

# load LABEL PORT:CONNECTIONS...: wrk against each port at once; sums req/s and takes the worst p99.
load() {
  local label=$1; shift
  local i=0
  for pc in "$@"; do
    PREFIX="p${pc%:*}-" TOKEN=$token wrk -t1 -c"${pc#*:}" -d"${secs}s" --latency -s bench/create.lua "https://127.0.0.1:${pc%:*}/api/v1/namespaces/default/configmaps" >"$work/wrk-$i" 2>&1 &
    i=$((i + 1))
  done
  wait $(jobs -p | tail -n "$#") 2>/dev/null || true
  local rps p50 p99 errors
  rps=$(cat "$work"/wrk-* | awk '/Requests\/sec/ {s += $2} END {printf "%.0f", s}')
  p50=$(cat "$work"/wrk-* | sed -nE 's/.*p50 ([0-9.]+) ms.*/\1/p' | sort -n | tail -1)
  p99=$(cat "$work"/wrk-* | sed -nE 's/.*p99 ([0-9.]+) ms.*/\1/p' | sort -n | tail -1)
  errors=$(cat "$work"/wrk-* | sed -nE 's/^non-201: ([0-9]+).*/\1/p' | awk '{s += $1} END {print s + 0}')
  echo "[$label] $rps writes/s, p50 ${p50} ms, p99 ${p99} ms (worst replica), non-201: $errors"
  rm -f "$work"/wrk-*
}

serve "$work/sqlite" 18001
sqlite_pid=$!
load "SQLite, one server" 18001:64
kill "$sqlite_pid" 2>/dev/null || true

urls=$(start_etcd 1 one 18100)
serve "$work/etcd1" 18002 --etcd-servers "$urls"
load "etcd (1 member), one replica" 18002:64
serve "$work/etcd2" 18003 --etcd-servers "$urls"
serve "$work/etcd3" 18004 --etcd-servers "$urls"
load "etcd (1 member), three replicas" 18002:22 18003:21 18004:21

urls3=$(start_etcd 3 three 18200)
for i in 1 2 3; do serve "$work/c$i" $((18010 + i)) --etcd-servers "$urls3"; done
load "etcd (3 members), three replicas" 18011:22 18012:21 18013:21
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
