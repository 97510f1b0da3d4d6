package rules

import (
	"fmt"
	"os"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/ruleflow/ruleflow/qualification"
)

// LoadForms reads only the forms: section of the configuration file at path and
// returns each form's field schema by form name. Every other key is ignored, so
// `ruleflow eval --config` works with a configuration that is still being written.
// Errors name the file and, for YAML problems, the line and column.
func LoadForms(path string) (map[string]*qualification.Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Forms yaml.MapSlice `yaml:"forms"`
	}
	if err := yaml.UnmarshalWithOptions(data, &doc, yaml.UseOrderedMap()); err != nil {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimRight(yaml.FormatError(err, false, true), "\n"))
	}
	out := make(map[string]*qualification.Schema, len(doc.Forms))
	for _, item := range doc.Forms {
		name := fmt.Sprint(item.Key)
		form, _ := item.Value.(yaml.MapSlice)
		var fields []qualification.Field
		for _, fi := range form {
			if fmt.Sprint(fi.Key) != "fields" {
				continue
			}
			specs, ok := fi.Value.(yaml.MapSlice)
			if !ok && fi.Value != nil {
				return nil, fmt.Errorf("%s: form %q: fields must be a mapping of field name to {id, type, options}", path, name)
			}
			for _, spec := range specs {
				f, err := formsField(fmt.Sprint(spec.Key), spec.Value)
				if err != nil {
					return nil, fmt.Errorf("%s: form %q: %w", path, name, err)
				}
				fields = append(fields, f)
			}
		}
		s, err := qualification.NewSchema(name, fields)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out[name] = s
	}
	return out, nil
}

// formsField converts one decoded `Name: {id, type, options}` entry.
func formsField(name string, v any) (qualification.Field, error) {
	f := qualification.Field{Name: name}
	m, ok := v.(yaml.MapSlice)
	if !ok {
		return f, fmt.Errorf("field %q must be a mapping with id, type and options", name)
	}
	for _, kv := range m {
		switch key := fmt.Sprint(kv.Key); key {
		case "id":
			switch id := kv.Value.(type) {
			case uint64:
				f.ID = int64(id)
			case int64:
				f.ID = id
			default:
				return f, fmt.Errorf("field %q: id must be an integer", name)
			}
		case "type":
			t, err := qualification.ParseFieldType(fmt.Sprint(kv.Value))
			if err != nil {
				return f, fmt.Errorf("field %q: %w", name, err)
			}
			f.Type = t
		case "options":
			opts, ok := kv.Value.([]any)
			if !ok {
				return f, fmt.Errorf("field %q: options must be a list", name)
			}
			for _, o := range opts {
				f.Options = append(f.Options, fmt.Sprint(o))
			}
		}
	}
	if f.Type == 0 {
		return f, fmt.Errorf("field %q has no type", name)
	}
	return f, nil
}
