#!/usr/bin/env bash
# Regenerates src/Portcullis.Server/Controllers/Workloads/PodTemplateSpec.gospew.tsv (the Go types go-spew
# prints for a v1.PodTemplateSpec) and builds spewhash (upstream's ComputeHash of a template read as JSON),
# from git checkouts of k8s.io/api and k8s.io/apimachinery at one tag.
# Needs: Go (GOPATH mode), go-spew v1.1.1 and gopkg.in/inf.v0 in /usr/share/gocode (Debian's
# golang-go, golang-github-davecgh-go-spew-dev, golang-gopkg-inf.v0-dev).
# Usage: tools/gospew/gen.sh API_GIT_DIR APIMACHINERY_GIT_DIR [TAG]   (TAG defaults to kubernetes-1.33.0)
set -euo pipefail
api=$1; am=$2; tag=${3:-kubernetes-1.33.0}
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../.." && pwd)
w=$(mktemp -d); s=$w/src
mkdir -p $s/k8s.io/api/core/v1 $s/k8s.io/apimachinery/pkg/{api/resource,util/intstr,types,apis/meta/v1,runtime/serializer/cbor/direct} $s/k8s.io/klog/v2
git --git-dir="$api" show $tag:core/v1/types.go > $s/k8s.io/api/core/v1/types.go
for f in amount.go math.go quantity.go scale_int.go suffix.go; do git --git-dir="$am" show $tag:pkg/api/resource/$f > $s/k8s.io/apimachinery/pkg/api/resource/$f; done
git --git-dir="$am" show $tag:pkg/util/intstr/intstr.go > $s/k8s.io/apimachinery/pkg/util/intstr/intstr.go
git --git-dir="$am" show $tag:pkg/types/uid.go > $s/k8s.io/apimachinery/pkg/types/uid.go
# Stubs for what the copied files import but the hash never reaches.
printf 'package direct\nimport "errors"\nfunc Marshal(src interface{}) ([]byte, error) { return nil, errors.New("stub") }\nfunc Unmarshal(src []byte, dst interface{}) error { return errors.New("stub") }\n' \
  > $s/k8s.io/apimachinery/pkg/runtime/serializer/cbor/direct/direct.go
printf 'package klog\nfunc ErrorDepth(depth int, args ...interface{}) {}\nfunc Errorf(format string, args ...interface{}) {}\n' > $s/k8s.io/klog/v2/klog.go
# meta/v1: only the type declarations core/v1 uses (methods dropped; time.Time's JSON methods are promoted).
mkdir -p $w/meta
for f in types.go time.go micro_time.go duration.go; do git --git-dir="$am" show $tag:pkg/apis/meta/v1/$f > $w/meta/$f; done
(cd "$here/extract" && GO111MODULE=off go build -o $w/extract .)
{ echo 'package v1'; echo 'import ("time"; "k8s.io/apimachinery/pkg/types")'; echo 'type RawExtensionStub struct { Raw []byte }'
  echo 'var _ = time.Now'; echo 'var _ types.UID'
  $w/extract $w/meta/types.go,$w/meta/time.go,$w/meta/micro_time.go,$w/meta/duration.go ObjectMeta TypeMeta ListMeta Time MicroTime OwnerReference LabelSelector Condition CauseType List \
    | sed 's/runtime\.RawExtension/RawExtensionStub/g'; } > $s/k8s.io/apimachinery/pkg/apis/meta/v1/types.go
cp -r "$here/spewschema" "$here/spewhash" $s/
export GOPATH=$w:/usr/share/gocode GO111MODULE=off
(cd $w && go build -o spewschema ./src/spewschema && go build -o "$here/spewhash.bin" ./src/spewhash)
$w/spewschema | sed -e 's#k8s.io/api/core/v1\.#core/v1.#g' -e 's#k8s.io/apimachinery/pkg/apis/meta/v1\.#meta/v1.#g' \
  -e 's#k8s.io/apimachinery/pkg/api/resource\.#resource.#g' -e 's#k8s.io/apimachinery/pkg/util/intstr\.#intstr.#g' \
  -e 's#k8s.io/apimachinery/pkg/types\.#types.#g' > "$repo/src/Portcullis.Server/Controllers/Workloads/PodTemplateSpec.gospew.tsv"
echo "schema written; spewhash: echo TEMPLATE_JSON | $here/spewhash.bin [collisionCount]"
rm -rf "$w"
