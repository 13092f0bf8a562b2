#!/usr/bin/env bash
# Pods at scale on the simulated node: creates N pods over one connection, then waits until every
# pod is bound and Running. Prints the time to create, the time until all run, pods per second,
# distinct pod IPs and the server's memory. Not a test: figures only. Only 127.0.0.1 is used, and it
# stops by itself (at most 10 minutes of waiting).
#   bench/many-pods.sh [PODS=5000]
# NODES=N runs the server with --nodes N and prints how many pods each node got.
# PORTCULLIS_DLL=path/to/portcullis.dll measures another build (default: this tree's Release build).
set -euo pipefail
cd "$(dirname "$0")/.."
pods=${1:-5000}
port=${PORT:-17030}
dll=${PORTCULLIS_DLL:-src/Portcullis/bin/Release/net10.0/portcullis.dll}
[ -f "$dll" ] || dotnet build -c Release src/Portcullis >/dev/null
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet "$dll" serve --data-dir "$work/data" --secure-port "$port" --bind-address 127.0.0.1 --nodes "${NODES:-1}" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
d="$work/data"
api="https://127.0.0.1:$port/api/v1/namespaces/default/pods"
rss() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$server/status"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); server idle rss $(rss) MiB"

cfg="$work/create.cfg"
for i in $(seq 1 "$pods"); do
  [ "$i" -gt 1 ] && echo "next"
  printf 'url = "%s"\nrequest = "POST"\nheader = "Content-Type: application/json"\noutput = "/dev/null"\n' "$api"
  printf 'cacert = "%s"\ncert = "%s"\nkey = "%s"\nwrite-out = "%%{http_code}\\n"\nsilent\nshow-error\n' "$d/ca.crt" "$d/admin.crt" "$d/admin.key"
  printf 'data-binary = "{\\"metadata\\":{\\"name\\":\\"p-%d\\"},\\"spec\\":{\\"containers\\":[{\\"name\\":\\"c\\",\\"image\\":\\"nginx\\"}]}}"\n' "$i"
done >"$cfg"
start=$(date +%s%N)
{ curl -K "$cfg" || true; } | sort | uniq -c | sed 's/^/  responses: /'
created=$(date +%s%N)
echo "created $pods pods in $(( (created - start) / 1000000 )) ms"

auth=(--cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key")
running=0
for _ in $(seq 1 600); do
  running=$(curl -s "${auth[@]}" "$api?fieldSelector=status.phase%3DRunning" | grep -o '"phase": *"Running"' | wc -l)
  [ "$running" -ge "$pods" ] && break
  sleep 1
done
done_at=$(date +%s%N)
ips=$(curl -s "${auth[@]}" "$api" | grep -o '"podIP": *"[0-9.]*"' | sort -u | wc -l)
total_ms=$(( (done_at - start) / 1000000 ))
echo "running: $running of $pods, $total_ms ms after the first create ($(( pods * 1000 / (total_ms > 0 ? total_ms : 1) )) pods/s); distinct pod IPs: $ips"
per_node=$(curl -s "${auth[@]}" "$api" | grep -o '"nodeName": *"[^"]*"' | sort | uniq -c | awk '{print $1}' | sort -n)
echo "nodes used: $(echo "$per_node" | wc -l); pods per node min $(echo "$per_node" | head -1), max $(echo "$per_node" | tail -1)"
echo "server rss $(rss) MiB; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "node restarts or controller failures in the log: $(grep -ciE 'restart|unhandled|fail' "$work/server.log" || true)"
