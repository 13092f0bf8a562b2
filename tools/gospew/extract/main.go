// extract: the type declarations (and consts) named on the command line, with what they need, from Go files.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"strings"
)

func main() {
	fset := token.NewFileSet()
	decls := map[string]*ast.TypeSpec{}
	for _, f := range strings.Split(os.Args[1], ",") {
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil { panic(err) }
		for _, d := range file.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs { ts := s.(*ast.TypeSpec); decls[ts.Name.Name] = ts }
			}
		}
	}
	keep := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if keep[name] { return }
		ts, ok := decls[name]
		if !ok { return }
		keep[name] = true
		ast.Inspect(ts.Type, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok { visit(id.Name) }
			if _, ok := n.(*ast.SelectorExpr); ok { return false }
			return true
		})
	}
	for _, n := range os.Args[2:] { visit(n) }
	var buf bytes.Buffer
	for name := range keep {
		ts := decls[name]
		ts.Doc = nil; ts.Comment = nil
		buf.WriteString("type ")
		printer.Fprint(&buf, fset, ts)
		buf.WriteString("\n\n")
	}
	fmt.Print(buf.String())
}
