#!/usr/bin/env bash
# Benchmarks Portcullis beside a bare Kestrel TLS endpoint on the same machine, in one run.
# Not a test: it prints figures. Usage: bench/run.sh [SECONDS]
# Portcullis is measured as shipped (`dotnet publish -c Release`: Native AOT) and under the JIT.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
dotnet build -c Release src/Portcullis >/dev/null
dotnet build -c Release bench/Portcullis.Bench >/dev/null
dotnet build -c Release bench/BareKestrel >/dev/null
dotnet publish -c Release src/Portcullis -o "$work/aot" >/dev/null
jit=src/Portcullis/bin/Release/net10.0/portcullis.dll
aot=$work/aot/portcullis
bench=bench/Portcullis.Bench/bin/Release/net10.0/Portcullis.Bench.dll

for kind in aot jit; do
  bin=${!kind}
  echo "== [$kind] start-up (fresh data dir: keys generated)"
  dotnet $bench startup $bin "$work/$kind" 17001
  echo "== [$kind] start-up (keys already on disk), three runs"
  for i in 1 2 3; do dotnet $bench startup $bin "$work/$kind" 17001; done
done

echo "== Portcullis (AOT): TLS + client certificate + authorization + SQLite, 64 clients"
"$aot" serve --data-dir "$work/load" --secure-port 17002 >/dev/null 2>&1 &
until curl -sk https://127.0.0.1:17002/readyz >/dev/null 2>&1; do sleep 0.1; done
d="$work/load"
curl -s --cacert $d/ca.crt --cert $d/admin.crt --key $d/admin.key -X POST -H 'Content-Type: application/json' \
  -d '{"metadata":{"name":"x"}}' https://127.0.0.1:17002/api/v1/namespaces/default/configmaps >/dev/null
dotnet $bench load https://127.0.0.1:17002 /api/v1/namespaces/default/configmaps/x $d/admin.crt $d/admin.key $d/ca.crt 64 "$secs" get
dotnet $bench load https://127.0.0.1:17002 /api/v1/namespaces/default/configmaps $d/admin.crt $d/admin.key $d/ca.crt 64 "$secs" create
kill %1 2>/dev/null || true

echo "== bare Kestrel TLS endpoint, 64 clients"
dotnet bench/BareKestrel/bin/Release/net10.0/BareKestrel.dll 17003 $d/apiserver.crt $d/apiserver.key &
sleep 1.5
dotnet $bench load https://127.0.0.1:17003 /x $d/admin.crt $d/admin.key $d/ca.crt 64 "$secs" get
