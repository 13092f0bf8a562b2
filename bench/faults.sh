#!/usr/bin/env bash
# Faults on a three-member etcd cluster with three Portcullis replicas, all on 127.0.0.1. While 16 writers create
# ConfigMaps through the three replicas in turn, a watcher on each replica logs every event, a quota stress creates
# through all replicas at once, and a recorder logs every version of the kube-system Leases:
#   t+4s   kill -9 replica 2 (during the write burst)
#   t+8s   kill -9 one etcd member (the cluster keeps its quorum)
#   t+12s  kill -9 the replica that holds the kube-controller-manager lease
#   t+16s  restart everything that was killed
# Then the checks (Portcullis.Bench faults-check): every acknowledged write present at its revision on every replica;
# none acknowledged twice; every watcher saw events in revision order and every acknowledged write it lived through (or
# listed again after a 410); the quota never exceeded and its status exact; one lease holder at a time.
# Usage: bench/faults.sh [WRITE_SECONDS=24]; exit 1 when a check fails. Every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-24}
work=$(mktemp -d)
cleanup() { kill -9 $(jobs -p) 2>/dev/null || true; pkill -9 -f "$work" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
# kill -9 PID, reaped quietly (bash would report the killed job).
kill9() { kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
trap cleanup EXIT
command -v etcd >/dev/null || { echo "error: etcd is needed (apt-get install etcd-server)" >&2; exit 1; }
dotnet build -c Release src/Portcullis >/dev/null
dotnet build -c Release bench/Portcullis.Bench >/dev/null
server=${SERVER:-src/Portcullis/bin/Release/net10.0/portcullis.dll}
bench="dotnet bench/Portcullis.Bench/bin/Release/net10.0/Portcullis.Bench.dll"
run_server() { if [[ $server == *.dll ]]; then dotnet "$server" "$@"; else "$server" "$@"; fi; }
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token,faults-admin,faults-admin-uid,system:masters" >"$work/tokens.csv"
echo "$token" >"$work/token"
auth="token=$work/token"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"

# etcd: three members.
cluster="m0=http://127.0.0.1:19101,m1=http://127.0.0.1:19103,m2=http://127.0.0.1:19105"
etcd_urls="http://127.0.0.1:19100,http://127.0.0.1:19102,http://127.0.0.1:19104"
declare -a etcd_pid
start_etcd() { # INDEX STATE
  local i=$1 c=$((19100 + 2 * $1)) p=$((19101 + 2 * $1))
  etcd --name m$i --data-dir "$work/etcd-m$i" --listen-client-urls http://127.0.0.1:$c --advertise-client-urls http://127.0.0.1:$c \
    --listen-peer-urls http://127.0.0.1:$p --initial-advertise-peer-urls http://127.0.0.1:$p --initial-cluster "$cluster" \
    --initial-cluster-token faults --initial-cluster-state "$2" --logger zap --log-level error >>"$work/etcd-m$i.log" 2>&1 &
  etcd_pid[$i]=$!
}
for i in 0 1 2; do start_etcd $i new; done
for i in 0 1 2; do
  for _ in $(seq 1 300); do curl -s "http://127.0.0.1:$((19100 + 2 * i))/health" | grep -q '"health":"true"' && break; sleep 0.1; done
done

# Replicas: the first makes the CA and service-account key; the others get copies.
declare -a replica_pid
urls=""
for i in 0 1 2; do urls+="${urls:+,}https://127.0.0.1:$((19200 + i))"; done
start_replica() { # INDEX
  local i=$1 port=$((19200 + $1))
  run_server serve --data-dir "$work/r$i" --secure-port $port --bind-address 127.0.0.1 --token-auth-file "$work/tokens.csv" \
    --etcd-servers "$etcd_urls" >>"$work/r$i.log" 2>&1 &
  replica_pid[$i]=$!
  for _ in $(seq 1 600); do curl -sk "https://127.0.0.1:$port/readyz" 2>/dev/null | grep -q ok && return 0; sleep 0.1; done
  echo "replica $i did not become ready:" >&2; tail -5 "$work/r$i.log" >&2; return 1
}
start_replica 0
for i in 1 2; do mkdir -p "$work/r$i"; cp "$work/r0/ca.crt" "$work/r0/ca.key" "$work/r0/sa.key" "$work/r0/sa.pub" "$work/r$i/"; start_replica $i; done
ca=$work/r0/ca.crt
api() { curl -sf --cacert "$ca" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
api -X POST -d '{"metadata":{"name":"faults"}}' https://127.0.0.1:19200/api/v1/namespaces >/dev/null
api -X POST -d '{"metadata":{"name":"quota"}}' https://127.0.0.1:19201/api/v1/namespaces >/dev/null
quota=30
api -X POST -d "{\"metadata\":{\"name\":\"cm\"},\"spec\":{\"hard\":{\"count/configmaps\":\"$quota\"}}}" https://127.0.0.1:19202/api/v1/namespaces/quota/resourcequotas >/dev/null
echo "three etcd members, three replicas ready; write burst for ${secs}s"

# The clients.
observe=$((secs + 25))
clients=()
$bench faults-leases "$urls" "$auth" "$ca" $observe "$work/leases.log" &
clients+=($!)
for i in 0 1 2; do $bench faults-watch "https://127.0.0.1:$((19200 + i))" "$auth" "$ca" faults $observe "$work/watch-r$i.log" & clients+=($!); done
sleep 1
$bench faults-write "$urls" "$auth" "$ca" faults "$secs" 16 "$work/writes.log" &
writer=$!
$bench faults-quota "$urls" "$auth" "$ca" quota 12 "$work/quota.log" &
clients+=($!)

# The faults.
sleep 4;  echo "t+4s: kill -9 replica 2";    kill9 "${replica_pid[2]}"
sleep 4;  echo "t+8s: kill -9 etcd member 1"; kill9 "${etcd_pid[1]}"
sleep 4
holder=$(api https://127.0.0.1:19200/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager 2>/dev/null \
  | grep -o '"holderIdentity": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' || true)
leader=0
for i in 0 1; do grep -qF "${holder:-none}" "$work/r$i.log" 2>/dev/null && leader=$i; done
echo "t+12s: kill -9 replica $leader (kube-controller-manager lease holder: ${holder:-unknown})"
kill9 "${replica_pid[$leader]}"
sleep 4;  echo "t+16s: restart etcd member 1, replicas 2 and $leader"
start_etcd 1 existing
start_replica 2
start_replica "$leader"
wait "$writer"
echo "write burst over; letting watchers and controllers settle"
wait "${clients[@]}"
echo "== checks"
$bench faults-check "$work" "$urls" "$auth" "$ca" faults quota $quota
