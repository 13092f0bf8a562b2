#!/usr/bin/env bash
# The seed walkthrough (docs/walkthrough.md), end to end, as a new user types it: a fresh
# Portcullis with --pod-runtime=process, the four manifests applied with kubectl, the pod Running,
# then inside the pod: the mounted service-account token, and curl to https://kubernetes.default.svc/
# listing pods (allowed) and creating one (the 403). Exits non-zero at the first difference.
#
#   scripts/seed-walkthrough.sh            # uses src/Portcullis/bin/Release/net10.0/portcullis.dll (built if missing)
#   PORTCULLIS_DLL=/path/portcullis.dll (or the AOT executable) KUBECTL=/usr/bin/kubectl scripts/seed-walkthrough.sh
#
# As root the whole seed runs verbatim (the pod gets its own mount namespace with the token at
# /var/run/secrets/kubernetes.io/serviceaccount, and the server also listens on port 443 for
# kubernetes.default.svc). Not as root, pods cannot have their own mounts: the script says so and
# checks in-cluster access through KUBERNETES_SERVICE_HOST/PORT instead.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
dll="${PORTCULLIS_DLL:-$repo/src/Portcullis/bin/Release/net10.0/portcullis.dll}"
kubectl="${KUBECTL:-/usr/bin/kubectl}"
port="${PORT:-$((20000 + RANDOM % 30000))}"
work="$(mktemp -d)"
server_pid=""

if [ ! -f "$dll" ]; then
  # The default build is made when missing; a PORTCULLIS_DLL that does not exist is an error.
  [ -z "${PORTCULLIS_DLL:-}" ] || { echo "no $dll" >&2; exit 2; }
  echo "building $dll (dotnet build Portcullis.slnx -c Release)" >&2
  dotnet build "$repo/Portcullis.slnx" -c Release >&2
fi

cleanup() {
  if [ -n "$server_pid" ]; then
    # SIGTERM (the server stops its pods), then SIGKILL if it has not exited within ten seconds.
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; echo "--- server log ---" >&2; tail -n 50 "$work/server.log" >&2 || true; exit 1; }
step() { echo; echo "\$ $*"; }
expect_eq() { [ "$1" == "$2" ] || fail "expected:
$2
got:
$1"; }
expect_match() { grep -Eq -- "$2" <<<"$1" || fail "expected a line matching /$2/ in:
$1"; }

# --- Start the server -------------------------------------------------------------------------
run_server() { case "$dll" in *.dll) exec dotnet "$dll" "$@" ;; *) exec "$dll" "$@" ;; esac; }   # a .dll, or the Native AOT executable
run_server serve --data-dir "$work/data" --secure-port "$port" --pod-runtime=process >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
  curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited"
  sleep 0.2
done
export KUBECONFIG="$work/data/admin.kubeconfig"
export HOME="$work/home"
cd "$work"

# --- The seed's four manifests, verbatim (docs/seed/) -----------------------------------------
cp "$repo"/docs/seed/{sa,role,role_binding,pod}.yaml .

step kubectl apply -f sa.yaml
out=$("$kubectl" apply -f sa.yaml); echo "$out"; expect_eq "$out" "serviceaccount/demo-sa created"
step kubectl get sa
out=$("$kubectl" get sa); echo "$out"; expect_match "$out" '^demo-sa +0 +[0-9]+s$'
step kubectl apply -f role.yaml
out=$("$kubectl" apply -f role.yaml); echo "$out"; expect_eq "$out" "role.rbac.authorization.k8s.io/pod-reader created"
step kubectl get role
out=$("$kubectl" get role); echo "$out"; expect_match "$out" '^pod-reader +[0-9]{4}-[0-9]{2}-[0-9]{2}T'
step kubectl apply -f role_binding.yaml
out=$("$kubectl" apply -f role_binding.yaml); echo "$out"; expect_eq "$out" "rolebinding.rbac.authorization.k8s.io/pod-reader-binding created"
step kubectl get rolebindings
out=$("$kubectl" get rolebindings); echo "$out"; expect_match "$out" '^pod-reader-binding +Role/pod-reader +[0-9]+s$'
step kubectl apply -f pod.yaml
out=$("$kubectl" apply -f pod.yaml); echo "$out"; expect_eq "$out" "pod/test-pod created"

for _ in $(seq 1 150); do
  [ "$("$kubectl" get pod test-pod -o jsonpath='{.status.containerStatuses[0].ready}')" == "true" ] && break
  sleep 0.2
done
step kubectl get pods
out=$("$kubectl" get pods); echo "$out"; expect_match "$out" '^test-pod +1/1 +Running +0 +[0-9]+s$'

sa_dir=/var/run/secrets/kubernetes.io/serviceaccount
forbidden='{
  "kind": "Status",
  "apiVersion": "v1",
  "metadata": {},
  "status": "Failure",
  "message": "pods is forbidden: User \"system:serviceaccount:default:demo-sa\" cannot create resource \"pods\" in API group \"\" in the namespace \"default\"",
  "reason": "Forbidden",
  "details": {
    "kind": "pods"
  },
  "code": 403
}'

if [ "$(id -u)" != 0 ]; then
  echo
  echo "NOTE: not running as root, so pods cannot have their own mount namespace: the token is not mounted at"
  echo "$sa_dir and kubernetes.default.svc:443 is not served. Checking in-cluster access through"
  echo "KUBERNETES_SERVICE_HOST/PORT with a token from 'kubectl create token demo-sa' instead."
  token=$("$kubectl" create token demo-sa)
  step 'kubectl exec test-pod -- sh -c '\''curl -s -H "Authorization: Bearer $TOKEN" --cacert $CA https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/default/pods'\'
  out=$("$kubectl" exec test-pod -- env TOKEN="$token" CA="$work/data/ca.crt" sh -c \
    'curl -s -H "Authorization: Bearer $TOKEN" --cacert "$CA" "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/default/pods"')
  echo "$out" | head -n 5
  expect_match "$out" '"kind": "PodList"'
  expect_match "$out" '"name": "test-pod"'
  out=$("$kubectl" exec test-pod -- env TOKEN="$token" CA="$work/data/ca.crt" sh -c \
    'curl -s -X POST -H "Authorization: Bearer $TOKEN" --cacert "$CA" -H "Content-Type: application/json" -d "{}" "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/default/pods"')
  echo "$out"
  expect_eq "$out" "$forbidden"
  echo; echo "OK (in-cluster variant: not root)"
  exit 0
fi

# --- Inside the pod, as the seed types it ------------------------------------------------------
# 1-2. kubectl exec -it test-pod -- sh, then ls and cat the token (a terminal, through script(1)).
step kubectl exec -it test-pod -- sh
session=$( { sleep 1; echo "ls $sa_dir/"; sleep 0.5; echo "cat $sa_dir/token"; sleep 0.5; echo "exit"; } |
  script -qec "$kubectl exec -it test-pod -- sh" /dev/null | tr -d '\r')
echo "$session"
# (A terminal echoes typed lines whenever they arrive, so a prompt may precede an output line.)
expect_match "$session" '(^|# )ca\.crt[[:space:]]+namespace[[:space:]]+token$'
expect_match "$session" '(^|# )eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+'

# The same, each command on its own (what scripts and CI logs read best).
step kubectl exec test-pod -- ls $sa_dir/
out=$("$kubectl" exec test-pod -- ls "$sa_dir/"); echo "$out"; expect_eq "$out" $'ca.crt\nnamespace\ntoken'
step kubectl exec test-pod -- cat $sa_dir/token
token=$("$kubectl" exec test-pod -- cat "$sa_dir/token"); echo "$token"
expect_match "$token" '^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'

# 3. List pods with the token, from inside the pod.
list='TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
curl -s --header "Authorization: Bearer $TOKEN" --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt https://kubernetes.default.svc/api/v1/namespaces/default/pods'
step "kubectl exec -i test-pod -- sh <<'EOF'"$'\n'"$list"$'\nEOF'
out=$("$kubectl" exec -i test-pod -- sh <<<"$list")
echo "$out" | head -n 8; echo "  ..."
expect_match "$out" '^  "kind": "PodList",$'
expect_match "$out" '^        "name": "test-pod",$'
expect_match "$out" '^        "phase": "Running",$'
expect_match "$out" '^            "image": "docker.io/curlimages/curl:latest",$'
expect_match "$out" '^ +"expirationSeconds": 3607,$'
expect_match "$out" '^ +"path": "token"$'

# 4. Try creating a pod: RBAC says no.
create='TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
curl -s -X POST --header "Authorization: Bearer $TOKEN" --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt -H "Content-Type: application/json" -d '"'{}'"' https://kubernetes.default.svc/api/v1/namespaces/default/pods'
step "kubectl exec -i test-pod -- sh <<'EOF'"$'\n'"$create"$'\nEOF'
out=$("$kubectl" exec -i test-pod -- sh <<<"$create")
echo "$out"
expect_eq "$out" "$forbidden"

echo; echo "OK: the seed walkthrough ran verbatim"
