package engine_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestREADMEEmbeddingSnippet keeps the README's "Embedding in Go" code block equal to
// the body of ExampleOpen, so the snippet is compiled and run by go test and cannot rot.
func TestREADMEEmbeddingSnippet(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippet, ok := readmeGoBlock(string(readme), "## Embedding in Go")
	if !ok {
		t.Fatal("README.md: no ```go block under \"## Embedding in Go\"")
	}
	body, err := exampleBody("example_test.go", "ExampleOpen")
	if err != nil {
		t.Fatal(err)
	}
	if snippet != body {
		t.Errorf("README.md's \"Embedding in Go\" block differs from the body of ExampleOpen in engine/example_test.go; copy the body (one tab of indentation removed) into the README:\n%s",
			lineDiff(body, snippet))
	}
}

// readmeGoBlock returns the first ```go block after the heading, without its fences.
func readmeGoBlock(readme, heading string) (string, bool) {
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		return "", false
	}
	rest := readme[i+len(heading)+2:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	start := strings.Index(rest, "```go\n")
	if start < 0 {
		return "", false
	}
	rest = rest[start+len("```go\n"):]
	end := strings.Index(rest, "\n```")
	if end < 0 {
		return "", false
	}
	return rest[:end], true
}

// exampleBody returns the statements of the named function in file, with one level
// of indentation removed.
func exampleBody(file, name string) (string, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != name || fn.Body == nil {
			continue
		}
		inner := string(src[fset.Position(fn.Body.Lbrace).Offset+1 : fset.Position(fn.Body.Rbrace).Offset])
		inner = strings.Trim(inner, "\n")
		lines := strings.Split(inner, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimPrefix(l, "\t")
		}
		return strings.Join(lines, "\n"), nil
	}
	return "", os.ErrNotExist
}

// lineDiff shows, line by line, where want (the example) and got (the README) differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		if i < len(w) {
			b.WriteString("line " + strconv.Itoa(i+1) + " example: " + wl + "\n")
		}
		if i < len(g) {
			b.WriteString("line " + strconv.Itoa(i+1) + " README:  " + gl + "\n")
		}
	}
	return b.String()
}
