#!/usr/bin/env bash
# Benchmarks Portcullis beside a bare Kestrel TLS endpoint on the same machine, in one run.
# Not a test: it prints figures and asserts none. Usage: bench/run.sh [SECONDS=10]
# Both servers are measured as shipped (`dotnet publish -c Release`: Native AOT); start-up is also
# measured under the JIT. The authorized GET is issue 15's figure: a bearer token whose user is
# allowed by a Role + RoleBinding (not system:masters), beside the admin client certificate
# (system:masters) figure. Only 127.0.0.1 is used.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
dotnet build -c Release src/Portcullis >/dev/null
dotnet build -c Release bench/Portcullis.Bench >/dev/null
dotnet publish -c Release src/Portcullis -o "$work/aot" >/dev/null
dotnet publish -c Release bench/BareKestrel -o "$work/bare" >/dev/null
jit=src/Portcullis/bin/Release/net10.0/portcullis.dll
aot=$work/aot/portcullis
bench=bench/Portcullis.Bench/bin/Release/net10.0/Portcullis.Bench.dll
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"

for kind in aot jit; do
  bin=${!kind}
  echo "== [$kind] start-up (fresh data dir: keys generated)"
  dotnet $bench startup $bin "$work/$kind" 17001
  echo "== [$kind] start-up (keys already on disk), three runs"
  for i in 1 2 3; do dotnet $bench startup $bin "$work/$kind" 17001; done
done

# A static token user with get on configmaps in default only (a Role and a RoleBinding), and a
# ServiceAccount with the same Role whose token comes from a TokenRequest.
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token,bench-reader,bench-reader-uid" >"$work/tokens.csv" # no fourth column: upstream would read it as one empty group
echo "$token" >"$work/static.token"
admin_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$admin_token,bench-admin,bench-admin-uid,system:masters" >>"$work/tokens.csv"

echo "== Portcullis (AOT): TLS + authentication + RBAC authorization + SQLite, 64 clients, ${secs} s each"
"$aot" serve --data-dir "$work/load" --secure-port 17002 --bind-address 127.0.0.1 --token-auth-file "$work/tokens.csv" >/dev/null 2>&1 &
until curl -sk https://127.0.0.1:17002/readyz >/dev/null 2>&1; do sleep 0.1; done
d="$work/load"
api=https://127.0.0.1:17002
admin() { curl -sf --cacert $d/ca.crt --cert $d/admin.crt --key $d/admin.key -H 'Content-Type: application/json' "$@"; }
admin -X POST -d '{"metadata":{"name":"x"}}' $api/api/v1/namespaces/default/configmaps >/dev/null
admin -X POST -d '{"metadata":{"name":"configmap-reader"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}' \
  $api/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles >/dev/null
admin -X POST -d '{"metadata":{"name":"configmap-reader"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"configmap-reader"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"bench-reader"},{"kind":"ServiceAccount","name":"bench-sa","namespace":"default"}]}' \
  $api/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings >/dev/null
admin -X POST -d '{"metadata":{"name":"bench-sa"}}' $api/api/v1/namespaces/default/serviceaccounts >/dev/null
admin -X POST -d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}' \
  $api/api/v1/namespaces/default/serviceaccounts/bench-sa/token | grep -o '"token": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' >"$work/sa.token"
ca=$d/ca.crt
cm=/api/v1/namespaces/default/configmaps
out=$work/figures
dotnet $bench load $api $cm cert=$d/admin.crt:$d/admin.key $ca 64 "$secs" create "admin client certificate, system:masters"
if command -v wrk >/dev/null; then
  # The same creates from wrk (C, two threads): the load generator takes less of the two cores.
  echo "== create ConfigMap with wrk -t2 -c64, ${secs} s (static token, system:masters)"
  TOKEN=$admin_token wrk -t2 -c64 -d"${secs}s" --latency -s bench/create.lua $api$cm | grep -E 'Requests/sec|non-201'
else
  echo "(wrk not installed: the wrk create figure is skipped)"
fi

# The yardstick runs beside the idle Portcullis, and the GETs alternate with it for ROUNDS rounds,
# so a change in the machine's load (it is shared) hits both sides of the ratio alike.
"$work/bare/BareKestrel" 17003 $d/apiserver.crt $d/apiserver.key &
until curl -sk https://127.0.0.1:17003/x >/dev/null 2>&1; do sleep 0.1; done
rounds=${ROUNDS:-3}
echo "== GET, 64 clients, ${secs} s each, $rounds rounds: bare Kestrel TLS endpoint (AOT) and Portcullis (AOT)"
for round in $(seq 1 "$rounds"); do
  dotnet $bench load https://127.0.0.1:17003 /x token=$work/static.token $ca 64 "$secs" get "bare Kestrel" | tee -a $out
  dotnet $bench load $api $cm/x token=$work/static.token $ca 64 "$secs" get "static token user, RoleBinding" | tee -a $out
  dotnet $bench load $api $cm/x token=$work/sa.token $ca 64 "$secs" get "ServiceAccount token, RoleBinding" | tee -a $out
  dotnet $bench load $api $cm/x cert=$d/admin.crt:$d/admin.key $ca 64 "$secs" get "admin client certificate, system:masters" | tee -a $out
done
echo "== GET as a share of the bare endpoint (medians of the $rounds rounds)"
# Each line: [label] ... : N req/s, ...  ->  label <TAB> N
grep '^\[' $out | sed -E 's|^\[([^]]*)\].*: ([0-9]+) req/s.*|\1\t\2|' | sort -t$'\t' -k1,1 -k2,2n | awk -F'\t' '
  { v[$1, ++n[$1]] = $2 }
  END {
    for (l in n) { c = n[l]; m[l] = c % 2 ? v[l, (c + 1) / 2] : (v[l, c / 2] + v[l, c / 2 + 1]) / 2 }
    b = m["bare Kestrel"]
    for (l in n) if (l != "bare Kestrel") printf "  %s: %.0f %% (median %.0f / %.0f req/s)\n", l, 100 * m[l] / b, m[l], b
  }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
