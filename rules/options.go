package rules

import (
	"reflect"
	"strconv"

	"github.com/goccy/go-yaml/ast"
)

// decodeOptions decodes the options of a selection field, written either as a list
// of names (an option's value is its position) or as a mapping of names to AR's
// integer values in file order ({New: 0, Assigned: 1, Closed: 5}). Each option's
// node is recorded at options[i], so later checks are positioned at it. Values must
// be non-negative integers, distinct within the field.
func (d *decoder) decodeOptions(fs *fieldSpec, field string, orig ast.Node) {
	n := d.resolve(orig)
	if _, isMap := n.(*ast.MappingNode); !isMap {
		if _, isMap := n.(*ast.MappingValueNode); !isMap {
			d.decodeValue(orig, reflect.ValueOf(&fs.Options).Elem(), fs, "options")
			return
		}
	}
	d.nodes[nodeKey{fs, "options"}] = orig
	entries, _ := d.mappingEntries(n)
	fs.Options = make([]string, 0, len(entries))
	fs.Values = make([]int64, 0, len(entries))
	byValue := map[int64]string{}
	for i, mv := range entries {
		name, ok := d.keyString(mv.Key)
		if !ok {
			d.errorf(mv.Key, "field %q: option names must be strings", field)
			continue
		}
		path := "options[" + strconv.Itoa(i) + "]"
		d.nodes[nodeKey{fs, path}] = mv.Key
		var v int64
		nerr := len(d.errs)
		if _, isInt := d.resolve(mv.Value).(*ast.IntegerNode); !isInt {
			d.errorf(mv.Value, "field %q: the value of option %q must be an integer (options map names to AR values, such as {New: 0, Assigned: 1}), got %s", field, name, describe(d.resolve(mv.Value)))
		} else {
			d.decodeValue(mv.Value, reflect.ValueOf(&v).Elem(), fs, path+".value")
		}
		switch {
		case len(d.errs) > nerr:
		case v < 0:
			d.errorf(mv.Value, "field %q: the value of option %q must not be negative, got %d", field, name, v)
		default:
			if other, dup := byValue[v]; dup {
				d.errorf(mv.Value, "field %q: options %q and %q have the same value %d", field, other, name, v)
			}
			byValue[v] = name
		}
		fs.Options = append(fs.Options, name)
		fs.Values = append(fs.Values, v)
	}
}
