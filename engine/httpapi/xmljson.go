package httpapi

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxXMLDepth is how deeply XMLToJSON lets elements nest.
const MaxXMLDepth = 64

// XMLError is an XML document that XMLToJSON refuses, with the line it was found on.
type XMLError struct {
	Line int    // 1-based line of the problem; 0 when unknown
	Msg  string // what is wrong
}

// Error formats the error as "xml:LINE: message".
func (e *XMLError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("xml:%d: %s", e.Line, e.Msg)
	}
	return "xml: " + e.Msg
}

// XMLToJSON converts an XML document to a JSON-shaped tree of map[string]any, []any
// and string, as external events carry it: the root element becomes a one-key
// object {"root": value}; an element without attributes or child elements becomes
// its text; any other element becomes an object with its attributes under "@name",
// its child elements under their names (repeated elements as an array, in document
// order) and its non-blank text under "#text". Names are local names; a prefixed
// namespace declaration keeps its "xmlns:" prefix.
//
// The decoder is strict and expands no entities beyond the five predefined ones and
// character references: a document with a DOCTYPE (the vehicle of entity-expansion
// attacks such as "billion laughs") is refused, as are elements nested deeper than
// MaxXMLDepth, more than one root element and text outside the root. Errors are
// *XMLError.
func XMLToJSON(data []byte) (map[string]any, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.Entity = map[string]string{}
	dec.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return input, nil
		}
		return nil, fmt.Errorf("unsupported charset %q (want UTF-8)", charset)
	}
	start := 1 // the line where the token being read starts
	fail := func(format string, args ...any) (map[string]any, error) {
		return nil, &XMLError{Line: start, Msg: fmt.Sprintf(format, args...)}
	}

	var (
		stack []*xmlNode
		root  map[string]any
	)
	for {
		start, _ = dec.InputPos()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &XMLError{Line: se.Line, Msg: strings.TrimPrefix(se.Msg, "xml: ")}
			}
			return fail("%s", strings.TrimPrefix(err.Error(), "xml: "))
		}
		switch t := tok.(type) {
		case xml.Directive:
			if d := strings.TrimSpace(string(t)); len(d) >= 7 && strings.EqualFold(d[:7], "DOCTYPE") {
				return fail("DOCTYPE is not allowed (no DTDs or entity declarations)")
			}
			return fail("directive <!%s> is not allowed", firstWord(string(t)))
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return fail("more than one root element (<%s>)", t.Name.Local)
			}
			if len(stack) >= MaxXMLDepth {
				return fail("elements nested deeper than %d", MaxXMLDepth)
			}
			f := &xmlNode{name: t.Name.Local}
			for _, a := range t.Attr {
				if f.attrs == nil {
					f.attrs = make(map[string]any, len(t.Attr))
				}
				f.attrs["@"+attrName(a.Name)] = a.Value
			}
			stack = append(stack, f)
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			v := f.value()
			if len(stack) == 0 {
				root = map[string]any{f.name: v}
				continue
			}
			stack[len(stack)-1].add(f.name, v)
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return fail("text outside the root element")
				}
				continue
			}
			stack[len(stack)-1].text.Write(t)
		case xml.Comment, xml.ProcInst:
		}
	}
	if root == nil {
		return fail("no root element")
	}
	return root, nil
}

// xmlNode is an element being decoded.
type xmlNode struct {
	name     string
	attrs    map[string]any // "@name" → value
	children map[string]any // name → value, or []any of values when repeated
	text     strings.Builder
}

// add records a child element's value; a repeated name turns into an array.
func (n *xmlNode) add(name string, v any) {
	if n.children == nil {
		n.children = make(map[string]any)
	}
	prev, ok := n.children[name]
	switch {
	case !ok:
		n.children[name] = v
	case isRepeated(prev):
		n.children[name] = append(prev.(repeated), v)
	default:
		n.children[name] = repeated{prev, v}
	}
}

// repeated marks a child array built from repeated elements, so that a child
// whose own value is an array is never mistaken for one.
type repeated []any

func isRepeated(v any) bool { _, ok := v.(repeated); return ok }

// value is what a finished element becomes in the tree.
func (n *xmlNode) value() any {
	text := n.text.String()
	if n.attrs == nil && n.children == nil {
		if strings.TrimSpace(text) == "" {
			return ""
		}
		return text
	}
	obj := make(map[string]any, len(n.attrs)+len(n.children)+1)
	for k, v := range n.attrs {
		obj[k] = v
	}
	for k, v := range n.children {
		if r, ok := v.(repeated); ok {
			v = []any(r)
		}
		obj[k] = v
	}
	if t := strings.TrimSpace(text); t != "" {
		obj["#text"] = t
	}
	return obj
}

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 20 {
		s = s[:20]
	}
	return s
}

func attrName(n xml.Name) string {
	if n.Space == "xmlns" {
		return "xmlns:" + n.Local
	}
	return n.Local
}
