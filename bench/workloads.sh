#!/usr/bin/env bash
# Workload controllers at scale (issue 18): NODES simulated nodes and DEPLOYMENTS Deployments of REPLICAS pods
# each, created with kubectl; then waits until every pod is Running and every Deployment reports all replicas
# available. Prints the time to create, the time until all pods run and all Deployments are available, pods per
# second, how the pods spread over the nodes, and the server's memory. Not a test: figures only. Only 127.0.0.1
# is used, and it stops by itself (at most 15 minutes of waiting).
#   bench/workloads.sh [NODES=100] [DEPLOYMENTS=100] [REPLICAS=100]
# PORTCULLIS_DLL=path/to/portcullis.dll measures another build; PORTCULLIS_EXE=path/to/portcullis a Native AOT one.
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-100}
deployments=${2:-100}
replicas=${3:-100}
pods=$(( deployments * replicas ))
port=${PORT:-17031}
kubectl=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}
dll=${PORTCULLIS_DLL:-src/Portcullis/bin/Release/net10.0/portcullis.dll}
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if [ -n "${PORTCULLIS_EXE:-}" ]; then run=("$PORTCULLIS_EXE"); else
  [ -f "$dll" ] || dotnet build -c Release src/Portcullis >/dev/null
  run=(dotnet "$dll"); fi
"${run[@]}" serve --data-dir "$work/data" --secure-port "$port" --bind-address 127.0.0.1 --nodes "$nodes" \
  --node-cidr-mask-size 24 --max-pods 110 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
export KUBECONFIG="$work/data/admin.kubeconfig"
rss() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$server/status"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); server idle rss $(rss) MiB; nodes: $("$kubectl" get nodes --no-headers | wc -l)"

for i in $(seq 1 "$deployments"); do
  printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-%d}\nspec:\n  replicas: %d\n  selector: {matchLabels: {app: web-%d}}\n  template:\n    metadata: {labels: {app: web-%d}}\n    spec: {containers: [{name: c, image: nginx, resources: {requests: {cpu: 10m, memory: 16Mi}}}]}\n' \
    "$i" "$replicas" "$i" "$i"
done >"$work/deployments.yaml"
start=$(date +%s%N)
"$kubectl" create -f "$work/deployments.yaml" >/dev/null
created=$(date +%s%N)
echo "created $deployments deployments ($pods pods wanted) in $(( (created - start) / 1000000 )) ms"

running=0; available=0
for _ in $(seq 1 900); do
  running=$("$kubectl" get pods --field-selector=status.phase=Running --no-headers 2>/dev/null | wc -l)
  available=$("$kubectl" get deployments -o jsonpath='{range .items[*]}{.status.availableReplicas}{"\n"}{end}' | awk -v r="$replicas" '$1==r' | wc -l)
  [ "$running" -ge "$pods" ] && [ "$available" -ge "$deployments" ] && break
  sleep 1
done
done_at=$(date +%s%N)
total_ms=$(( (done_at - start) / 1000000 ))
echo "running: $running of $pods pods, available: $available of $deployments deployments, $total_ms ms after the first create ($(( pods * 1000 / (total_ms > 0 ? total_ms : 1) )) pods/s)"
echo "pods per node (min/max): $("$kubectl" get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort | uniq -c | awk 'NR==1{min=$1;max=$1} {if($1<min)min=$1; if($1>max)max=$1} END {print min "/" max}')"
echo "server rss $(rss) MiB; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "warnings in the log: $(grep -c 'warn\|fail' "$work/server.log" || true)"
