#!/usr/bin/env bash
# Server memory with watchers that never read, during a burst of large writes.
# Not a test: it prints figures (VmRSS / VmHWM of the server process, in MiB) and stops by itself.
# Only 127.0.0.1 is used. Usage:
#   bench/slow-watchers.sh [WATCHERS=10] [WRITES=2000] [SIZE_KB=16]
# PORTCULLIS_DLL=path/to/portcullis.dll measures another build (default: this tree's Release build).
set -euo pipefail
cd "$(dirname "$0")/.."
watchers=${1:-10}
writes=${2:-2000}
size_kb=${3:-16}
port=${PORT:-17020}
dll=${PORTCULLIS_DLL:-src/Portcullis/bin/Release/net10.0/portcullis.dll}
[ -f "$dll" ] || dotnet build -c Release src/Portcullis >/dev/null
work=$(mktemp -d)
server=""
watch_pids=()
cleanup() {
  for p in "${watch_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null || true
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

dotnet "$dll" serve --data-dir "$work/data" --secure-port "$port" --bind-address 127.0.0.1 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
d="$work/data"
api="https://127.0.0.1:$port/api/v1/namespaces/default/configmaps"
auth=(--cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key")
rss() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$server/status"; }
hwm() { awk '/^VmHWM/ {printf "%.0f", $2/1024}' "/proc/$server/status"; }

echo "server pid $server; idle: rss $(rss) MiB"
# Watchers that never read: curl's output goes to a FIFO that a sleeping process holds open and never reads,
# so once the pipe is full curl stops reading the socket.
curl_pids=()
for i in $(seq 1 "$watchers"); do
  mkfifo "$work/w$i"
  sleep 3600 <"$work/w$i" &
  watch_pids+=($!)
  curl -sN --http1.1 "${auth[@]}" "$api?watch=1&timeoutSeconds=3600" >"$work/w$i" &
  watch_pids+=($!)
  curl_pids+=($!)
done
sleep 2
echo "$watchers non-reading watchers open: rss $(rss) MiB"

# The burst: one curl, one connection, $writes creates of ${size_kb} KiB each (a curl config file of requests).
blob=$(head -c $((size_kb * 1024)) /dev/zero | tr '\0' x)
cfg="$work/burst.cfg"
for i in $(seq 1 "$writes"); do
  [ "$i" -gt 1 ] && echo "next"
  printf 'url = "%s"\nrequest = "POST"\nheader = "Content-Type: application/json"\noutput = "/dev/null"\n' "$api"
  printf 'cacert = "%s"\ncert = "%s"\nkey = "%s"\nwrite-out = "%%{http_code}\\n"\nsilent\nshow-error\n' "$d/ca.crt" "$d/admin.crt" "$d/admin.key"
  printf 'data-binary = "{\\"metadata\\":{\\"name\\":\\"b-%d\\"},\\"data\\":{\\"blob\\":\\"%s\\"}}"\n' "$i" "$blob"
done >"$cfg"
peak=0
( while kill -0 "$server" 2>/dev/null; do r=$(rss); echo "$r"; sleep 0.2; done ) >"$work/samples" &
sampler=$!
start=$(date +%s%N)
{ curl -K "$cfg" || true; } | sort | uniq -c | sed 's/^/  responses: /'
end=$(date +%s%N)
echo "burst of $writes x ${size_kb} KiB done in $(( (end - start) / 1000000 )) ms: rss $(rss) MiB"
sleep 8   # the server's grace for cut-off watchers whose clients do not read
kill "$sampler" 2>/dev/null || true
peak=$(sort -n "$work/samples" | tail -1)
conns=$(ss -tn state established "( sport = :$port )" 2>/dev/null | tail -n +2 | wc -l)
echo "8 s after the burst: rss $(rss) MiB, sampled peak $peak MiB, VmHWM $(hwm) MiB"
echo "watch connections the server still holds open: $conns of $watchers"
for p in "${watch_pids[@]}"; do kill "$p" 2>/dev/null || true; done
watch_pids=()
sleep 3
echo "watchers closed: rss $(rss) MiB"
