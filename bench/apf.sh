#!/usr/bin/env bash
# API Priority and Fairness (issue 21). Not a test: it prints figures and asserts none. Usage: bench/apf.sh [SECONDS=10]
# 1. The cost of classification on the hot path: the authorized GET of bench/run.sh (a static token user allowed by a
#    Role + RoleBinding, 64 clients) against one server with APF (the default) and one with
#    --enable-priority-and-fairness=false (the max-in-flight filter), beside the bare Kestrel endpoint, ROUNDS
#    alternating rounds, each as a share of the bare endpoint.
# 2. The abusive client: a user floods the server with creates that each hold a seat for DELAY seconds (a slow
#    validating webhook, bench/slow-webhook.py, on the flooder's namespace: the seat is held while the server does no
#    work, as with slow webhooks or slow storage, so the two cores are not what runs out). POLITE clients, a
#    ServiceAccount with a TokenRequest token, create ConfigMaps in their own namespace at RATE req/s each, alone and
#    then beside FLOOD flooding clients, with --max-requests-inflight=20 --max-mutating-requests-inflight=10, with APF
#    and without. With APF the flooder (a plain user: FlowSchema global-default) and the ServiceAccount (FlowSchema
#    service-accounts: level workload-low) are in different priority levels; without it they share the ten mutating
#    seats of the max-in-flight filter. The figures are the polite clients' p50/p99 and 429s, and the flooder's share
#    of 429s.
# PARTS=2 runs only the second part.
# Both servers are measured as shipped (Native AOT), unless PORTCULLIS_BIN names another build. Only 127.0.0.1 is used.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${ROUNDS:-3}
polite=${POLITE:-4}
rate=${RATE:-20}
flood=${FLOOD:-250}  # fits the flow's 6 queues × 50 under APF; FLOOD=400 adds clients refused at once that retry at once
parts=${PARTS:-12}
delay=${DELAY:-0.25}
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
if [[ $parts == *1* ]]; then
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

fi

echo "== abusive client: $polite polite clients (a ServiceAccount) creating at $rate req/s each, then beside $flood clients of a flooder whose creates hold a seat ${delay} s; ${secs} s each; --max-requests-inflight=20 --max-mutating-requests-inflight=10"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/webhook.key" -out "$work/webhook.crt" \
  -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
python3 bench/slow-webhook.py 17107 "$work/webhook.crt" "$work/webhook.key" "$delay" &
webhook_pid=$!
# flood_setup NAME PORT: namespaces polite and flood (only flood's creates go through the slow webhook), create on
# configmaps for the flooder in flood and for the ServiceAccount polite/polite in polite, and its token.
flood_setup() {
  local d=$work/$1 api=https://127.0.0.1:$2
  post() { curl -sf --cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key" -H 'Content-Type: application/json' -X POST -d "$2" "$api$1"; }
  post /api/v1/namespaces '{"metadata":{"name":"flood","labels":{"bench-flood":"true"}}}' >/dev/null
  post /api/v1/namespaces '{"metadata":{"name":"polite"}}' >/dev/null
  post /api/v1/namespaces/polite/serviceaccounts '{"metadata":{"name":"polite"}}' >/dev/null
  for ns in flood polite; do
    post /apis/rbac.authorization.k8s.io/v1/namespaces/$ns/roles '{"metadata":{"name":"creator"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["create"]}]}' >/dev/null
  done
  post /apis/rbac.authorization.k8s.io/v1/namespaces/flood/rolebindings '{"metadata":{"name":"creator"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"creator"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"flooder"}]}' >/dev/null
  post /apis/rbac.authorization.k8s.io/v1/namespaces/polite/rolebindings '{"metadata":{"name":"creator"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"creator"},"subjects":[{"kind":"ServiceAccount","name":"polite","namespace":"polite"}]}' >/dev/null
  post /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations "{\"metadata\":{\"name\":\"slow\"},\"webhooks\":[{\"name\":\"slow.bench.portcullis.dev\",\"clientConfig\":{\"url\":\"https://127.0.0.1:17107/validate\",\"caBundle\":\"$(base64 -w0 "$work/webhook.crt")\"},\"rules\":[{\"apiGroups\":[\"\"],\"apiVersions\":[\"v1\"],\"operations\":[\"CREATE\"],\"resources\":[\"configmaps\"]}],\"namespaceSelector\":{\"matchLabels\":{\"bench-flood\":\"true\"}},\"sideEffects\":\"None\",\"admissionReviewVersions\":[\"v1\"],\"timeoutSeconds\":10,\"failurePolicy\":\"Fail\"}]}" >/dev/null
  post /api/v1/namespaces/polite/serviceaccounts/polite/token '{"spec":{"expirationSeconds":3600}}' | jq -r .status.token >"$d/polite-sa.token"
}
paths="POST:/api/v1/namespaces/polite/configmaps|POST:/api/v1/namespaces/flood/configmaps"
serve apf-small 17105 --max-requests-inflight=20 --max-mutating-requests-inflight=10
flood_setup apf-small 17105
echo "-- APF on"
dotnet $bench apf https://127.0.0.1:17105 "$paths" token=$work/apf-small/polite-sa.token token=$work/flooder.token $work/apf-small/ca.crt "$polite" "$rate" "$flood" "$secs"
kill $pid 2>/dev/null || true
serve noapf-small 17106 --max-requests-inflight=20 --max-mutating-requests-inflight=10 --enable-priority-and-fairness=false
flood_setup noapf-small 17106
echo "-- APF off (max-in-flight)"
dotnet $bench apf https://127.0.0.1:17106 "$paths" token=$work/noapf-small/polite-sa.token token=$work/flooder.token $work/noapf-small/ca.crt "$polite" "$rate" "$flood" "$secs"
kill $pid $webhook_pid 2>/dev/null || true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
