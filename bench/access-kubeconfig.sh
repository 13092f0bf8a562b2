#!/usr/bin/env bash
# `portcullis access who-can --kubeconfig` on a filled cluster: starts a Portcullis server, creates
# N objects (default 5000: Roles, RoleBindings, ClusterRoles, ClusterRoleBindings, ServiceAccounts,
# Pods and Secrets over 10 namespaces, plus the server's own bootstrap policy), then times one
# who-can read through the admin kubeconfig (every list paged, Secrets as metadata only).
# Not a test: figures only (issue 14's target: at most 5 s for 5,000 objects). Only 127.0.0.1 is used.
#   bench/access-kubeconfig.sh [OBJECTS=5000]
# PORTCULLIS_DLL=path/to/portcullis.dll measures another build; PORTCULLIS_EXE=path/to/portcullis
# (e.g. the Native AOT publish) times that binary as the client (default: dotnet the dll).
set -euo pipefail
cd "$(dirname "$0")/.."
objects=${1:-5000}
port=${PORT:-17031}
dll=${PORTCULLIS_DLL:-src/Portcullis/bin/Release/net10.0/portcullis.dll}
[ -f "$dll" ] || dotnet build -c Release src/Portcullis >/dev/null
client=(dotnet "$dll")
[ -n "${PORTCULLIS_EXE:-}" ] && client=("$PORTCULLIS_EXE")
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet "$dll" serve --data-dir "$work/data" --secure-port "$port" --bind-address 127.0.0.1 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
d="$work/data"
base="https://127.0.0.1:$port"

cfg="$work/create.cfg"
first=1
post() { # url json
  [ "$first" -eq 1 ] || echo "next"
  first=0
  printf 'url = "%s"\nrequest = "POST"\nheader = "Content-Type: application/json"\noutput = "/dev/null"\n' "$1"
  printf 'cacert = "%s"\ncert = "%s"\nkey = "%s"\nwrite-out = "%%{http_code}\\n"\nsilent\nshow-error\n' "$d/ca.crt" "$d/admin.crt" "$d/admin.key"
  printf 'data-binary = "%s"\n' "$(printf '%s' "$2" | sed 's/"/\\"/g')"
}
{
  for n in $(seq 0 9); do post "$base/api/v1/namespaces" "{\"metadata\":{\"name\":\"bench-$n\"}}"; done
  # Shares of the N objects: 20% Roles, 25% RoleBindings, 5% ClusterRoles, 5% ClusterRoleBindings,
  # 15% ServiceAccounts, 15% Pods, 15% Secrets.
  for i in $(seq 1 "$objects"); do
    ns="bench-$(( i % 10 ))"
    case $(( i % 20 )) in
      0|1|2|3) post "$base/apis/rbac.authorization.k8s.io/v1/namespaces/$ns/roles" \
        "{\"metadata\":{\"name\":\"r-$i\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"secrets\"],\"verbs\":[\"get\",\"list\"]},{\"apiGroups\":[\"apps\"],\"resources\":[\"deployments\"],\"resourceNames\":[\"d-$i\"],\"verbs\":[\"update\"]}]}" ;;
      4|5|6|7|8) # bound to one of the Roles just made, in that Role's namespace
        k=$(( i - i % 20 + (i % 20 - 4) % 4 )); rns="bench-$(( k % 10 ))"
        post "$base/apis/rbac.authorization.k8s.io/v1/namespaces/$rns/rolebindings" \
        "{\"metadata\":{\"name\":\"rb-$i\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Role\",\"name\":\"r-$k\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"user-$i\"},{\"kind\":\"ServiceAccount\",\"name\":\"sa-$i\",\"namespace\":\"$rns\"}]}" ;;
      9) post "$base/apis/rbac.authorization.k8s.io/v1/clusterroles" \
        "{\"metadata\":{\"name\":\"cr-$i\"},\"rules\":[{\"apiGroups\":[\"*\"],\"resources\":[\"configmaps\"],\"verbs\":[\"get\"]}]}" ;;
      10) post "$base/apis/rbac.authorization.k8s.io/v1/clusterrolebindings" \
        "{\"metadata\":{\"name\":\"crb-$i\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"cr-$(( i - 1 ))\"},\"subjects\":[{\"kind\":\"Group\",\"name\":\"group-$i\"}]}" ;;
      11|12|13) post "$base/api/v1/namespaces/$ns/serviceaccounts" "{\"metadata\":{\"name\":\"sa-$i\"}}" ;;
      14|15|16) post "$base/api/v1/namespaces/$ns/pods" \
        "{\"metadata\":{\"name\":\"p-$i\"},\"spec\":{\"serviceAccountName\":\"default\",\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}" ;;
      *) post "$base/api/v1/namespaces/$ns/secrets" "{\"metadata\":{\"name\":\"s-$i\"},\"stringData\":{\"password\":\"not-to-be-read-$i\"}}" ;;
    esac
  done
} >"$cfg"
start=$(date +%s%N)
{ curl -K "$cfg" || true; } | sort | uniq -c | sed 's/^/  responses: /'
echo "created $objects objects (+10 namespaces) in $(( ($(date +%s%N) - start) / 1000000 )) ms"

auth=(--cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key")
count() { curl -s "${auth[@]}" -H 'Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' "$base/$1" | grep -o '"name": *"[^"]*"' | wc -l; }
total=0
for p in apis/rbac.authorization.k8s.io/v1/roles apis/rbac.authorization.k8s.io/v1/rolebindings apis/rbac.authorization.k8s.io/v1/clusterroles \
         apis/rbac.authorization.k8s.io/v1/clusterrolebindings api/v1/serviceaccounts api/v1/pods api/v1/secrets; do
  c=$(count "$p"); total=$(( total + c )); echo "  ${p##*/}: $c"
done
echo "objects the reader lists: $total"

for run in 1 2 3; do
  t0=$(date +%s%N)
  "${client[@]}" access who-can get secrets -n bench-3 --kubeconfig "$d/admin.kubeconfig" -o json >"$work/answer.json"
  t1=$(date +%s%N)
  echo "run $run: who-can --kubeconfig in $(( (t1 - t0) / 1000000 )) ms, $(grep -c '"kind": "RoleBinding"' "$work/answer.json") RoleBinding entries"
done
