// spewhash: reads a PodTemplateSpec as JSON on stdin and prints what upstream's DeepHashObject writes
// (go-spew, %#v, SortKeys, DisableMethods, SpewKeys) and ComputeHash's result.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"

	"github.com/davecgh/go-spew/spew"
	v1 "k8s.io/api/core/v1"
)

const alphanums = "bcdfghjklmnpqrstvwxz2456789"

func safeEncode(s string) string {
	r := make([]byte, len(s))
	for i, b := range []byte(s) { r[i] = alphanums[int(b)%len(alphanums)] }
	return string(r)
}

func main() {
	data, _ := io.ReadAll(os.Stdin)
	var t v1.PodTemplateSpec
	if err := json.Unmarshal(data, &t); err != nil { panic(err) }
	printer := spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}
	s := printer.Sprintf("%#v", t)
	h := fnv.New32a()
	h.Write([]byte(s))
	if len(os.Args) > 1 {
		c, _ := strconv.Atoi(os.Args[1])
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(c))
		h.Write(b)
	}
	fmt.Println(safeEncode(fmt.Sprint(h.Sum32())))
	fmt.Println(s)
}
