#!/usr/bin/env bash
# API Priority and Fairness (issue 21). Not a test: it prints figures and asserts none. Usage: bench/apf.sh [SECONDS=10]
# 1. The cost of classification on the hot path: the authorized GET of bench/run.sh (a static token user allowed by a
#    Role + RoleBinding, 64 clients) against one server with APF (the default) and one with
#    --enable-priority-and-fairness=false (the max-in-flight filter), beside the bare Kestrel endpoint, ROUNDS
#    alternating rounds, each as a share of the bare endpoint.
# 2. The abusive client: POLITE clients (another user) at RATE req/s each, alone and then beside FLOOD clients of one
#    user sending as fast as they can, with --max-requests-inflight=20 --max-mutating-requests-inflight=10 (so the
#    flood is far over the limit), with APF and without. Both users are in the bootstrap global-default level (one flow
#    each: ByUser); the figures are the polite clients' p50/p99 and 429s, and the flooder's share of 429s.
# Both servers are measured as shipped (Native AOT), unless PORTCULLIS_BIN names another build. Only 127.0.0.1 is used.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${ROUNDS:-3}
polite=${POLITE:-4}
rate=${RATE:-20}
flood=${FLOOD:-400}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
dotnet build -c Release bench/Portcullis.Bench >/dev/null
bench=bench/Portcullis.Bench/bin/Release/net10.0/Portcullis.Bench.dll
if [ -n "${PORTCULLIS_BIN:-}" ]; then bin=$PORTCULLIS_BIN; else
  dotnet publish -c Release src/Portcullis -o "$work/aot" >/dev/null
  bin=$work/aot/portcullis
fi
dotnet publish -c Release bench/BareKestrel -o "$work/bare" >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"

tok() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
reader=$(tok); flooder=$(tok); polite_token=$(tok)
{ echo "$reader,bench-reader,bench-reader-uid"; echo "$flooder,flooder,flooder-uid"; echo "$polite_token,polite,polite-uid"; } >"$work/tokens.csv"
echo "$reader" >"$work/reader.token"; echo "$flooder" >"$work/flooder.token"; echo "$polite_token" >"$work/polite.token"

# serve NAME PORT ARGS...: a server with one ConfigMap and get on configmaps for the three token users.
serve() {
  local name=$1 port=$2; shift 2
  "$bin" serve --data-dir "$work/$name" --secure-port "$port" --bind-address 127.0.0.1 --token-auth-file "$work/tokens.csv" "$@" >"$work/$name.log" 2>&1 &
  pid=$!
  until curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.1; done
  local d=$work/$name api=https://127.0.0.1:$port
  admin() { curl -sf --cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key" -H 'Content-Type: application/json' "$@" >/dev/null; }
  admin -X POST -d '{"metadata":{"name":"x"}}' "$api/api/v1/namespaces/default/configmaps"
  admin -X POST -d '{"metadata":{"name":"configmap-reader"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}' \
    "$api/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles"
  admin -X POST -d '{"metadata":{"name":"configmap-reader"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"configmap-reader"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"bench-reader"},{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"flooder"},{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"polite"}]}' \
    "$api/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings"
}

cm=/api/v1/namespaces/default/configmaps/x
serve apf 17102; apf_pid=$pid
serve noapf 17103 --enable-priority-and-fairness=false; noapf_pid=$pid
ca=$work/apf/ca.crt
"$work/bare/BareKestrel" 17104 "$work/apf/apiserver.crt" "$work/apf/apiserver.key" &
bare_pid=$!
until curl -sk https://127.0.0.1:17104/x >/dev/null 2>&1; do sleep 0.1; done
out=$work/figures
echo "== GET, static token + RoleBinding, 64 clients, ${secs} s each, $rounds rounds: bare Kestrel, APF on, APF off"
for round in $(seq 1 "$rounds"); do
  dotnet $bench load https://127.0.0.1:17104 /x token=$work/reader.token $ca 64 "$secs" get "bare Kestrel" | tee -a $out
  dotnet $bench load https://127.0.0.1:17102 $cm token=$work/reader.token $ca 64 "$secs" get "APF on" | tee -a $out
  dotnet $bench load https://127.0.0.1:17103 $cm token=$work/reader.token $work/noapf/ca.crt 64 "$secs" get "APF off" | tee -a $out
done
echo "== GET as a share of the bare endpoint (medians of the $rounds rounds)"
grep '^\[' $out | sed -E 's|^\[([^]]*)\].*: ([0-9]+) req/s.*|\1\t\2|' | sort -t$'\t' -k1,1 -k2,2n | awk -F'\t' '
  { v[$1, ++n[$1]] = $2 }
  END {
    for (k in n) med[k] = v[k, int((n[k] + 1) / 2)]
    for (k in n) if (k != "bare Kestrel") printf "%s: %d req/s = %.0f %% of bare Kestrel (%d req/s)\n", k, med[k], 100 * med[k] / med["bare Kestrel"], med["bare Kestrel"]
  }'
kill $apf_pid $noapf_pid $bare_pid 2>/dev/null || true

echo "== abusive client: $polite polite clients at $rate req/s each, then beside $flood flooding clients; ${secs} s each; --max-requests-inflight=20 --max-mutating-requests-inflight=10"
serve apf-small 17105 --max-requests-inflight=20 --max-mutating-requests-inflight=10
echo "-- APF on"
dotnet $bench apf https://127.0.0.1:17105 $cm token=$work/polite.token token=$work/flooder.token $work/apf-small/ca.crt "$polite" "$rate" "$flood" "$secs"
kill $pid 2>/dev/null || true
serve noapf-small 17106 --max-requests-inflight=20 --max-mutating-requests-inflight=10 --enable-priority-and-fairness=false
echo "-- APF off (max-in-flight)"
dotnet $bench apf https://127.0.0.1:17106 $cm token=$work/polite.token token=$work/flooder.token $work/noapf-small/ca.crt "$polite" "$rate" "$flood" "$secs"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
