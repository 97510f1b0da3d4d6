package rules

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// schemaNode is the part of a JSON Schema the drift test looks at.
type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Type                 any                    `json:"type"`
	Properties           map[string]*schemaNode `json:"properties"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	Required             []string               `json:"required"`
	Defs                 map[string]*schemaNode `json:"$defs"`
	Schema               string                 `json:"$schema"`
}

// TestJSONSchemaMatchesTypes walks the Go configuration types and the JSON Schema
// together: every YAML key of every struct must be a property of the matching schema
// object and the other way round, with the same required keys, so the two cannot
// drift apart.
func TestJSONSchemaMatchesTypes(t *testing.T) {
	var root schemaNode
	if err := json.Unmarshal(JSONSchema, &root); err != nil {
		t.Fatalf("JSONSchema is not valid JSON: %v", err)
	}
	if root.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q, want draft 2020-12", root.Schema)
	}
	resolve := func(n *schemaNode) *schemaNode {
		for n != nil && n.Ref != "" {
			name, ok := strings.CutPrefix(n.Ref, "#/$defs/")
			if !ok || root.Defs[name] == nil {
				t.Fatalf("unresolvable $ref %q", n.Ref)
			}
			n = root.Defs[name]
		}
		return n
	}
	additional := func(n *schemaNode) *schemaNode {
		var a schemaNode
		if len(n.AdditionalProperties) == 0 || json.Unmarshal(n.AdditionalProperties, &a) != nil {
			return nil
		}
		return &a
	}
	visited := map[reflect.Type]bool{}
	var walk func(path string, typ reflect.Type, n *schemaNode, extra map[string]reflect.Type)
	walk = func(path string, typ reflect.Type, n *schemaNode, extra map[string]reflect.Type) {
		n = resolve(n)
		if n == nil {
			t.Errorf("%s: no schema for %s", path, typ)
			return
		}
		if visited[typ] {
			return
		}
		visited[typ] = true
		if string(n.AdditionalProperties) != "false" {
			t.Errorf("%s: additionalProperties = %s, want false (the loader is strict)", path, n.AdditionalProperties)
		}
		var keys, required []string
		fieldTypes := map[string]reflect.Type{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("yaml")
			if tag == "-" || !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			keys = append(keys, name)
			fieldTypes[name] = f.Type
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
		for k, ft := range extra {
			keys = append(keys, k)
			fieldTypes[k] = ft
		}
		var props []string
		for k := range n.Properties {
			props = append(props, k)
		}
		slices.Sort(keys)
		slices.Sort(props)
		if diff := cmp.Diff(keys, props); diff != "" {
			t.Errorf("%s (%s): YAML keys vs schema properties (-go +schema):\n%s", path, typ, diff)
		}
		slices.Sort(required)
		got := slices.Sorted(slices.Values(n.Required))
		if diff := cmp.Diff(required, got, cmp.Comparer(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 || slices.Equal(a, b) })); diff != "" {
			t.Errorf("%s (%s): required keys (-go +schema):\n%s", path, typ, diff)
		}
		for _, k := range keys {
			p := n.Properties[k]
			if p == nil {
				continue
			}
			ft := fieldTypes[k]
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			sub := resolve(p)
			switch ft.Kind() {
			case reflect.Slice:
				et := ft.Elem()
				for et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if sub.Items == nil {
					t.Errorf("%s.%s: schema has no items for %s", path, k, ft)
					continue
				}
				if et.Kind() == reflect.Struct {
					walk(path+"."+k+"[]", et, sub.Items, nil)
				}
			case reflect.Map:
				et := ft.Elem()
				if et.Kind() == reflect.Struct {
					a := additional(sub)
					if a == nil {
						t.Errorf("%s.%s: schema has no additionalProperties schema for %s", path, k, ft)
						continue
					}
					walk(path+"."+k+".*", et, a, nil)
				}
			case reflect.Struct:
				if ft == durationType {
					continue
				}
				walk(path+"."+k, ft, sub, nil)
			}
		}
	}
	// forms: is decoded by hand (to keep its order) into formSpec and fieldSpec.
	walk("$", reflect.TypeFor[Config](), &root, map[string]reflect.Type{"forms": reflect.TypeFor[map[string]formSpec]()})
	if len(visited) < 16 {
		t.Errorf("walked %d struct types, want all 16", len(visited))
	}
}
