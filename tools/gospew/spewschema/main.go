// spewschema: the Go types reachable from v1.PodTemplateSpec, as a table: what go-spew needs to print a
// value decoded from JSON (type strings, field order, JSON names, inlined structs).
package main

import (
	"fmt"
	"reflect"
	"strings"

	v1 "k8s.io/api/core/v1"
)

var seen = map[reflect.Type]string{}
var lines []string

func id(t reflect.Type) string {
	if t.Name() != "" { return t.PkgPath() + "." + t.Name() }
	return t.String()
}

func kind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct: return "struct"
	case reflect.Ptr: return "ptr"
	case reflect.Slice: return "slice"
	case reflect.Map: return "map"
	case reflect.String: return "string"
	case reflect.Bool: return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64: return "int"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64: return "uint"
	case reflect.Float32, reflect.Float64: return "float"
	}
	panic("unsupported kind " + t.String())
}

func visit(t reflect.Type) string {
	i := id(t)
	if _, ok := seen[t]; ok { return i }
	seen[t] = i
	k := kind(t)
	special := t.String() == "resource.Quantity" || (t.String() == "v1.Time" && strings.Contains(t.PkgPath(), "meta"))
	if special { k = "special" }
	elem, key := "-", "-"
	switch t.Kind() {
	case reflect.Ptr, reflect.Slice:
		elem = visit(t.Elem())
	case reflect.Map:
		key = visit(t.Key())
		elem = visit(t.Elem())
	}
	lines = append(lines, strings.Join([]string{"T", i, k, t.String(), elem, key}, "\t"))
	if t.Kind() == reflect.Struct && !special {
		for f := 0; f < t.NumField(); f++ {
			sf := t.Field(f)
			tag := sf.Tag.Get("json")
			name := strings.Split(tag, ",")[0]
			inline := "0"
			if name == "" && (sf.Anonymous || strings.Contains(tag, "inline")) { inline = "1" }
			if name == "" && inline == "0" { name = "-" }
			lines = append(lines, strings.Join([]string{"F", i, sf.Name, name, inline, visit(sf.Type)}, "\t"))
		}
	}
	return i
}

func main() {
	visit(reflect.TypeOf(v1.PodTemplateSpec{}))
	for _, l := range lines { fmt.Println(l) }
}
