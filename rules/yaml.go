package rules

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxDepth bounds nesting and alias chains, so a hostile file cannot exhaust the stack.
const maxDepth = 64

// maxAliases bounds alias expansions, so a "billion laughs" file cannot explode.
const maxAliases = 100000

// nodeKey names one decoded value: the struct that holds it and the YAML path below
// that struct ("" for the struct's own mapping, "callouts[2]", "parameters.id").
type nodeKey struct {
	owner any
	path  string
}

// structField is one YAML key of a Go struct.
type structField struct {
	key      string
	index    int
	required bool
}

// decoder turns the YAML syntax tree of a configuration into Config values. It
// collects every error instead of stopping at the first, and remembers the node each
// value came from so that validation can point at it.
type decoder struct {
	src       *source
	errs      ErrorList
	anchors   map[string]ast.Node
	nodes     map[nodeKey]ast.Node
	bad       map[ast.Node]bool // nodes with an error already reported
	fields    map[reflect.Type][]structField
	lookupEnv func(string) (string, bool)
	depth     int
	jobs      []*compileJob // conditions to compile, see compileAll
	aliases   int           // alias expansions so far, bounded by maxAliases
}

func newDecoder(src *source, lookupEnv func(string) (string, bool)) *decoder {
	return &decoder{
		src:       src,
		anchors:   map[string]ast.Node{},
		nodes:     map[nodeKey]ast.Node{},
		bad:       map[ast.Node]bool{},
		fields:    map[reflect.Type][]structField{},
		lookupEnv: lookupEnv,
	}
}

// parseYAML parses src into a syntax tree. A syntax error is fatal and returned as a
// one-element ErrorList.
func parseYAML(src *source) (ast.Node, error) {
	f, err := parser.ParseBytes(src.text, 0)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
			p := ye.GetToken().Position
			return nil, ErrorList{src.errorAt(Position{File: src.name, Line: p.Line, Column: p.Column}, ye.GetMessage())}
		}
		return nil, ErrorList{{Pos: Position{File: src.name}, Msg: err.Error()}}
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return nil, ErrorList{src.errorAt(Position{File: src.name, Line: 1, Column: 1}, "empty configuration (want at least \"version: 1\")")}
	}
	if len(docs) > 1 {
		tk := docs[1].Body.GetToken()
		pos := Position{File: src.name, Line: 1, Column: 1}
		if tk != nil && tk.Position != nil {
			pos = Position{File: src.name, Line: tk.Position.Line, Column: tk.Position.Column}
		}
		return nil, ErrorList{src.errorAt(pos, "a configuration file holds one YAML document; found a second one")}
	}
	return docs[0].Body, nil
}

// collectAnchors records every anchor of the tree, so aliases can be resolved.
func (d *decoder) collectAnchors(n ast.Node) {
	ast.Walk(anchorVisitor{d}, n)
}

type anchorVisitor struct{ d *decoder }

func (v anchorVisitor) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil && a.Value != nil {
		v.d.anchors[a.Name.GetToken().Value] = a.Value
	}
	return v
}

// pos returns the position of n.
func (d *decoder) pos(n ast.Node) Position {
	if n == nil {
		return Position{File: d.src.name}
	}
	{
		if mv, ok := n.(*ast.MappingValueNode); ok && mv.Key != nil {
			n = mv.Key
		}
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			return Position{File: d.src.name, Line: tk.Position.Line, Column: tk.Position.Column}
		}
	}
	return Position{File: d.src.name, Line: 1, Column: 1}
}

// errorf records an error at node n.
func (d *decoder) errorf(n ast.Node, format string, args ...any) {
	d.errs = append(d.errs, d.src.errorAt(d.pos(n), fmt.Sprintf(format, args...)))
}

// errorAtPos records an error at pos.
func (d *decoder) errorAtPos(pos Position, format string, args ...any) {
	d.errs = append(d.errs, d.src.errorAt(pos, fmt.Sprintf(format, args...)))
}

// node returns the node a value of owner came from, falling back to owner's own node.
func (d *decoder) node(owner any, path string) ast.Node {
	if n, ok := d.nodes[nodeKey{owner, path}]; ok {
		return n
	}
	return d.nodes[nodeKey{owner, ""}]
}

// has reports whether the key path of owner was written in the file.
func (d *decoder) has(owner any, path string) bool {
	_, ok := d.nodes[nodeKey{owner, path}]
	return ok
}

// errAt records an error at the node of owner's path, unless decoding that node
// already failed (the validation error would only repeat the decoding error).
func (d *decoder) errAt(owner any, path string, format string, args ...any) {
	n := d.node(owner, path)
	if d.bad[n] {
		return
	}
	d.errorf(n, format, args...)
}

// resolve looks through anchors, aliases and tags to the node that holds the value.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for i := 0; i < maxDepth; i++ {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.MappingKeyNode:
			n = v.Value
		case *ast.AliasNode:
			d.aliases++
			if d.aliases > maxAliases {
				if d.aliases == maxAliases+1 {
					d.errorf(v, "too many alias expansions (more than %d)", maxAliases)
				}
				return nil
			}
			name := ""
			if v.Value != nil {
				name = v.Value.GetToken().Value
			}
			target, ok := d.anchors[name]
			if !ok {
				d.errorf(v, "unknown alias %q", name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	d.errorf(n, "aliases nested too deeply")
	return nil
}

// describe names the kind of node n for error messages.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "null"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return fmt.Sprintf("the string %q", v.Value)
	case *ast.LiteralNode:
		return "a block string"
	case *ast.IntegerNode:
		return "the integer " + v.GetToken().Value
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + v.GetToken().Value
	case *ast.BoolNode:
		return "the boolean " + v.GetToken().Value
	}
	return "a " + n.Type().String()
}

// mappingEntries returns the entries of a mapping node with merge keys (<<) applied:
// explicit keys first in file order, then merged keys that are not overridden.
func (d *decoder) mappingEntries(n ast.Node) ([]*ast.MappingValueNode, bool) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		d.errorf(n, "mappings nested too deeply")
		return nil, false
	}
	var values []*ast.MappingValueNode
	switch v := n.(type) {
	case *ast.MappingNode:
		values = v.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{v}
	default:
		return nil, false
	}
	var out, merged []*ast.MappingValueNode
	explicit := map[string]bool{}
	for _, mv := range values {
		if mv.Key != nil && mv.Key.IsMergeKey() {
			src := d.resolve(mv.Value)
			var srcs []ast.Node
			if seq, ok := src.(*ast.SequenceNode); ok {
				for _, it := range seq.Values {
					srcs = append(srcs, d.resolve(it))
				}
			} else {
				srcs = []ast.Node{src}
			}
			for _, s := range srcs {
				if s == nil {
					continue
				}
				entries, ok := d.mappingEntries(s)
				if !ok {
					d.errorf(mv.Value, "merge key << needs a mapping or a list of mappings, got %s", describe(s))
					continue
				}
				merged = append(merged, entries...)
			}
			continue
		}
		if k, ok := d.keyString(mv.Key); ok {
			explicit[k] = true
		}
		out = append(out, mv)
	}
	seen := map[string]bool{}
	for _, mv := range merged {
		k, ok := d.keyString(mv.Key)
		if !ok || explicit[k] || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, mv)
	}
	return out, true
}

// keyString returns the text of a mapping key.
func (d *decoder) keyString(k ast.MapKeyNode) (string, bool) {
	if k == nil {
		return "", false
	}
	n := d.resolve(k)
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, true
	}
	return "", false
}

// scalarText returns the text of a scalar node and whether it is a string (quoted,
// plain or block) rather than a number, boolean or null.
func scalarText(n ast.Node) (text string, isString, ok bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true, true
		}
		return v.Value.Value, true, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, false, true
	case *ast.NullNode:
		return "", false, true
	}
	return "", false, false
}

var (
	durationType        = reflect.TypeFor[Duration]()
	offsetType          = reflect.TypeFor[Offset]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// structFields returns the YAML keys of struct type t.
func (d *decoder) structFields(t reflect.Type) []structField {
	if fs, ok := d.fields[t]; ok {
		return fs
	}
	var fs []structField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fs = append(fs, structField{key: name, index: i, required: !strings.Contains(opts, "omitempty")})
	}
	d.fields[t] = fs
	return fs
}

// typeLabel names a struct type in messages ("in callout ...").
func typeLabel(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Config]():
		return "the configuration"
	case reflect.TypeFor[Callout]():
		return "a callout"
	case reflect.TypeFor[Rule]():
		return "a rule"
	case reflect.TypeFor[Webhook]():
		return "a webhook"
	case reflect.TypeFor[WebhookCallback]():
		return "a webhook callback"
	case reflect.TypeFor[WebhookAuthentication]():
		return "a webhook authentication"
	case reflect.TypeFor[CallbackFunction]():
		return "a callback function"
	case reflect.TypeFor[TargetURL]():
		return "a target URL"
	case reflect.TypeFor[TargetCall]():
		return "a target call"
	case reflect.TypeFor[SMTP]():
		return "smtp"
	case reflect.TypeFor[NotesEndpoint]():
		return "notes"
	case reflect.TypeFor[LookupEndpoint]():
		return "lookup"
	case reflect.TypeFor[Retry]():
		return "retry"
	case reflect.TypeFor[Notify]():
		return "notify"
	case reflect.TypeFor[CalloutFields]():
		return "callout_fields"
	case reflect.TypeFor[formSpec]():
		return "a form"
	case reflect.TypeFor[fieldSpec]():
		return "a field"
	}
	return strings.ToLower(t.Name())
}

// decodeStruct decodes mapping n into the struct ptr points to. Keys in hooks are
// handed to their function instead of being decoded into a field.
func (d *decoder) decodeStruct(orig ast.Node, ptr any, hooks map[string]func(key, value ast.Node)) {
	d.nodes[nodeKey{ptr, ""}] = orig
	n := d.resolve(orig)
	if n == nil {
		return
	}
	rv := reflect.ValueOf(ptr).Elem()
	t := rv.Type()
	entries, ok := d.mappingEntries(n)
	if !ok {
		d.errorf(orig, "%s must be a mapping, got %s", typeLabel(t), describe(n))
		return
	}
	fields := d.structFields(t)
	seen := map[string]bool{}
	for _, mv := range entries {
		key, ok := d.keyString(mv.Key)
		if !ok {
			d.errorf(mv.Key, "mapping keys must be strings")
			continue
		}
		seen[key] = true
		if t == reflect.TypeFor[Config]() && strings.HasPrefix(key, "x-") {
			continue // extension keys hold anchors for reuse, as in Compose files
		}
		if h, ok := hooks[key]; ok {
			d.nodes[nodeKey{ptr, key}] = mv.Value
			h(mv.Key, mv.Value)
			continue
		}
		var f *structField
		for i := range fields {
			if fields[i].key == key {
				f = &fields[i]
				break
			}
		}
		if f == nil {
			keys := make([]string, len(fields))
			for i, f := range fields {
				keys[i] = f.key
			}
			d.errorf(mv.Key, "unknown key %q in %s%s", key, typeLabel(t), didYouMean(key, keys))
			continue
		}
		d.decodeValue(mv.Value, rv.Field(f.index), ptr, key)
	}
	for _, f := range fields {
		if f.required && !seen[f.key] {
			d.errorf(orig, "%s is missing the required key %q", typeLabel(t), f.key)
		}
	}
}

// decodeValue decodes node orig into v, recording orig as the node of (owner, path).
func (d *decoder) decodeValue(orig ast.Node, v reflect.Value, owner any, path string) {
	d.nodes[nodeKey{owner, path}] = orig
	if nerr := len(d.errs); orig != nil {
		defer func() {
			if len(d.errs) > nerr {
				d.bad[orig] = true
			}
		}()
	}
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		d.errorf(orig, "values nested too deeply")
		return
	}
	n := d.resolve(orig)
	if n == nil {
		return
	}
	_, isNull := n.(*ast.NullNode)
	t := v.Type()
	switch {
	case t == headersType:
		d.decodeHeaders(orig, n, v, owner, path)
		return
	case t == durationType || t == offsetType:
		d.decodeDuration(orig, n, v, isNull, t == offsetType)
		return
	case t.Kind() == reflect.Pointer:
		if !isNull {
			nv := reflect.New(t.Elem())
			if t.Elem().Kind() == reflect.Struct {
				d.decodeStruct(orig, nv.Interface(), nil)
			} else {
				d.decodeValue(orig, nv.Elem(), owner, path)
			}
			v.Set(nv)
		}
		return
	case t.Kind() == reflect.Struct:
		d.decodeStruct(orig, v.Addr().Interface(), nil)
		return
	case reflect.PointerTo(t).Implements(textUnmarshalerType) && t.Kind() != reflect.String:
		d.decodeText(orig, n, v)
		return
	}
	if isNull && t.Kind() != reflect.String && t.Kind() != reflect.Interface {
		return // null leaves the zero value
	}
	switch t.Kind() {
	case reflect.String:
		text, _, ok := scalarText(n)
		if !ok {
			d.errorf(orig, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(d.expandScalar(n, text))
	case reflect.Int, reflect.Int64, reflect.Int32:
		d.decodeInt(orig, n, v)
	case reflect.Bool:
		d.decodeBool(orig, n, v)
	case reflect.Slice:
		d.decodeList(orig, n, v, owner, path)
	case reflect.Map:
		d.decodeMapping(orig, n, v, owner, path)
	case reflect.Interface:
		if a := d.toAny(n); a != nil {
			v.Set(reflect.ValueOf(a))
		}
	default:
		d.errorf(orig, "cannot decode into %s", t)
	}
}

// decodeDuration decodes a Duration ("20s", "1m30s"; not negative) or, when signed,
// an Offset ("-30m").
func (d *decoder) decodeDuration(orig, n ast.Node, v reflect.Value, isNull, signed bool) {
	text, _, ok := scalarText(n)
	if !ok {
		d.errorf(orig, "expected a duration such as 20s or 1m30s, got %s", describe(n))
		return
	}
	if isNull {
		return
	}
	text = d.expandScalar(n, text)
	dur, err := time.ParseDuration(text)
	if err != nil {
		d.errorf(orig, "invalid duration %q (want a number with a unit, such as 20s or 1m30s)", text)
		return
	}
	if dur < 0 && !signed {
		d.errorf(orig, "duration %s must not be negative", text)
		return
	}
	v.SetInt(int64(dur))
}

// decodeText decodes a scalar into a type with its own UnmarshalText.
func (d *decoder) decodeText(orig, n ast.Node, v reflect.Value) {
	text, _, ok := scalarText(n)
	if !ok {
		d.errorf(orig, "expected a string, got %s", describe(n))
		return
	}
	if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(d.expandScalar(n, text))); err != nil {
		d.errorf(orig, "%v", err)
	}
}

// fromEnv reports whether a quoted scalar takes its value from the environment.
// Typing is strict: port: "25" is a string, not a number. But a ${VAR} must be
// quoted in YAML, so a quoted scalar holding ${ is decoded as the integer or
// boolean its expansion spells (port: "${SMTP_PORT}").
func fromEnv(s *ast.StringNode) bool { return strings.Contains(s.Value, "${") }

// decodeInt decodes an integer: an integer scalar, or a quoted ${VAR} that expands
// to one. The YAML parser gives integers above math.MaxInt64 as uint64; they are
// too large for every integer setting.
func (d *decoder) decodeInt(orig, n ast.Node, v reflect.Value) {
	var i int64
	switch sv := n.(type) {
	case *ast.IntegerNode:
		switch x := sv.Value.(type) {
		case int64:
			i = x
		case uint64:
			if x > math.MaxInt64 {
				d.errorf(orig, "integer %d is too large", x)
				return
			}
			i = int64(x)
		}
	case *ast.StringNode:
		p, err := strconv.ParseInt(strings.TrimSpace(d.expandScalar(n, sv.Value)), 10, 64)
		if err != nil || !fromEnv(sv) {
			d.errorf(orig, "expected an integer, got %s", describe(n))
			return
		}
		i = p
	default:
		d.errorf(orig, "expected an integer, got %s", describe(n))
		return
	}
	if v.OverflowInt(i) {
		d.errorf(orig, "integer %d is out of range", i)
		return
	}
	v.SetInt(i)
}

// decodeBool decodes true or false, or a quoted ${VAR} that expands to one.
func (d *decoder) decodeBool(orig, n ast.Node, v reflect.Value) {
	switch sv := n.(type) {
	case *ast.BoolNode:
		v.SetBool(sv.Value)
	case *ast.StringNode:
		b, err := strconv.ParseBool(d.expandScalar(n, sv.Value))
		if err != nil || !fromEnv(sv) {
			d.errorf(orig, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	default:
		d.errorf(orig, "expected true or false, got %s", describe(n))
	}
}

// decodeList decodes a sequence into a slice; entry i is recorded at path[i].
func (d *decoder) decodeList(orig, n ast.Node, v reflect.Value, owner any, path string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(orig, "expected a list, got %s", describe(n))
		return
	}
	t := v.Type()
	s := reflect.MakeSlice(t, 0, len(seq.Values))
	for i, it := range seq.Values {
		ev := reflect.New(t.Elem()).Elem()
		d.decodeValue(it, ev, owner, path+"["+strconv.Itoa(i)+"]")
		if ev.Kind() == reflect.Pointer && ev.IsNil() {
			d.errorf(it, "empty list entry (want %s)", typeLabel(t.Elem().Elem()))
			continue
		}
		s = reflect.Append(s, ev)
	}
	v.Set(s)
}

// decodeMapping decodes a mapping into a map with string keys; the value of key k
// is recorded at path.k and the key itself at path.k#key.
func (d *decoder) decodeMapping(orig, n ast.Node, v reflect.Value, owner any, path string) {
	entries, ok := d.mappingEntries(n)
	if !ok {
		d.errorf(orig, "expected a mapping, got %s", describe(n))
		return
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(entries))
	for _, mv := range entries {
		key, ok := d.keyString(mv.Key)
		if !ok {
			d.errorf(mv.Key, "mapping keys must be strings")
			continue
		}
		d.nodes[nodeKey{owner, path + "." + key + "#key"}] = mv.Key
		ev := reflect.New(t.Elem()).Elem()
		d.decodeValue(mv.Value, ev, owner, path+"."+key)
		m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), ev)
	}
	v.Set(m)
}

// toAny converts a node to plain Go values: string, int64, float64, bool, nil,
// map[string]any and []any.
func (d *decoder) toAny(orig ast.Node) any {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		d.errorf(orig, "values nested too deeply")
		return nil
	}
	n := d.resolve(orig)
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return nil
	case *ast.StringNode, *ast.LiteralNode:
		text, _, _ := scalarText(v)
		return d.expandScalar(v, text)
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return x
		case uint64:
			return float64(x)
		}
		return v.GetToken().Value
	case *ast.FloatNode:
		return v.Value
	case *ast.BoolNode:
		return v.Value
	case *ast.SequenceNode:
		out := make([]any, len(v.Values))
		for i, it := range v.Values {
			out[i] = d.toAny(it)
		}
		return out
	case *ast.MappingNode, *ast.MappingValueNode:
		entries, _ := d.mappingEntries(v)
		out := make(map[string]any, len(entries))
		for _, mv := range entries {
			key, ok := d.keyString(mv.Key)
			if !ok {
				d.errorf(mv.Key, "mapping keys must be strings")
				continue
			}
			out[key] = d.toAny(mv.Value)
		}
		return out
	}
	text, _, _ := scalarText(n)
	return text
}
