package rules

import (
	"fmt"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on hosts without a zoneinfo database

	"github.com/goccy/go-yaml/ast"

	"github.com/ruleflow/ruleflow/qualification"
)

// formSpec is how a form is written under forms: (the key is the form name). It is
// decoded by hand to keep the file order of fields; the struct documents the keys
// and keeps the JSON Schema honest.
type formSpec struct {
	Fields        map[string]fieldSpec `yaml:"fields"`
	CalloutFields CalloutFields        `yaml:"callout_fields,omitempty"`
	RenamedFrom   []string             `yaml:"renamed_from,omitempty"`
}

// fieldSpec is how one field of a form is written (the key is the field name).
type fieldSpec struct {
	ID      int64    `yaml:"id,omitempty"`
	Type    string   `yaml:"type"`
	Options []string `yaml:"options,omitempty"` // a list of names, or a mapping of names to values (decodeOptions)
	Values  []int64  `yaml:"-"`                 // the options' values when written as a mapping
}

// Load reads, decodes and validates the configuration file at path. A file that
// cannot be read yields the *os.PathError; a bad file yields an ErrorList with every
// problem found, each positioned in the file.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// Parse decodes and validates a configuration. filename is used in error positions.
// Environment references (${NAME}) in string values are expanded from the process
// environment.
//
// YAML syntax errors are fatal and reported alone; after a successful parse every
// decoding and validation error is collected, so the ErrorList names all problems of
// the file at once. The returned Config is immutable: conditions are compiled, rules
// are resolved and indexed, and webhooks have been turned into rules.
func Parse(filename string, src []byte) (*Config, error) {
	return parse(filename, src, os.LookupEnv)
}

func parse(filename string, text []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	src := newSource(filename, text)
	body, err := parseYAML(src)
	if err != nil {
		return nil, err
	}
	d := newDecoder(src, lookupEnv)
	d.collectAnchors(body)
	cfg := &Config{File: filename}
	var formsNode ast.Node
	d.decodeStruct(body, cfg, map[string]func(key, value ast.Node){
		"forms": func(_, value ast.Node) { formsNode = value },
	})
	if formsNode != nil {
		d.decodeForms(cfg, formsNode)
	}
	d.build(cfg)
	if len(d.errs) > 0 {
		d.errs.Sort()
		return nil, d.errs
	}
	return cfg, nil
}

// decodeForms decodes the forms: mapping in file order into cfg.Forms.
func (d *decoder) decodeForms(cfg *Config, orig ast.Node) {
	n := d.resolve(orig)
	if n == nil {
		return
	}
	if _, ok := n.(*ast.NullNode); ok {
		return
	}
	entries, ok := d.mappingEntries(n)
	if !ok {
		d.errorf(orig, "forms must be a mapping of form name to form, got %s", describe(n))
		return
	}
	for _, mv := range entries {
		name, ok := d.keyString(mv.Key)
		if !ok || strings.TrimSpace(name) == "" {
			d.errorf(mv.Key, "a form name must be a non-empty string")
			continue
		}
		spec := &formSpec{}
		type field struct {
			name string
			key  ast.Node
			spec *fieldSpec
		}
		var fields []field
		d.decodeStruct(mv.Value, spec, map[string]func(key, value ast.Node){
			"fields": func(_, value ast.Node) {
				fn := d.resolve(value)
				if fn == nil {
					return
				}
				if _, ok := fn.(*ast.NullNode); ok {
					return
				}
				fentries, ok := d.mappingEntries(fn)
				if !ok {
					d.errorf(value, "fields must be a mapping of field name to {id, type, options}, got %s", describe(fn))
					return
				}
				for _, fmv := range fentries {
					fname, ok := d.keyString(fmv.Key)
					if !ok || strings.TrimSpace(fname) == "" {
						d.errorf(fmv.Key, "a field name must be a non-empty string")
						continue
					}
					fs := &fieldSpec{}
					d.decodeStruct(fmv.Value, fs, map[string]func(key, value ast.Node){
						"options": func(_, value ast.Node) { d.decodeOptions(fs, fname, value) },
					})
					fields = append(fields, field{fname, fmv.Key, fs})
				}
			},
		})
		form := &Form{Name: name, CalloutFields: spec.CalloutFields}
		d.nodes[nodeKey{form, ""}] = mv.Key
		d.nodes[nodeKey{form, "callout_fields"}] = d.nodes[nodeKey{spec, "callout_fields"}]
		d.nodes[nodeKey{&form.CalloutFields, ""}] = d.nodes[nodeKey{&spec.CalloutFields, ""}]
		form.RenamedFrom = d.formRenamedFrom(form, spec)
		for _, e := range spec.CalloutFields.Entries() {
			if nd, ok := d.nodes[nodeKey{&spec.CalloutFields, e.Key}]; ok {
				d.nodes[nodeKey{&form.CalloutFields, e.Key}] = nd
			}
		}
		var qfields []qualification.Field
		byID := map[int64]string{}
		for _, f := range fields {
			qf := qualification.Field{Name: f.name, ID: f.spec.ID, Options: f.spec.Options, Values: f.spec.Values}
			if d.has(f.spec, "id") && f.spec.ID <= 0 {
				d.errAt(f.spec, "id", "field %q: id must be a positive integer", f.name)
			}
			if other, dup := byID[f.spec.ID]; dup && f.spec.ID > 0 {
				d.errAt(f.spec, "id", "field %q: id %d is already used by field %q", f.name, f.spec.ID, other)
				qf.ID = 0
			} else if f.spec.ID > 0 {
				byID[f.spec.ID] = f.name
			}
			if d.has(f.spec, "type") {
				t, err := qualification.ParseFieldType(f.spec.Type)
				if err != nil {
					d.errAt(f.spec, "type", "field %q: %v", f.name, err)
				}
				qf.Type = t
			}
			switch {
			case qf.Type == qualification.Selection && len(f.spec.Options) == 0:
				d.errAt(f.spec, "type", "selection field %q needs options", f.name)
			case qf.Type != qualification.Selection && qf.Type != 0 && f.spec.Options != nil:
				d.errAt(f.spec, "options", "field %q: options are only allowed for selection fields", f.name)
			}
			seen := map[string]bool{}
			for i, o := range f.spec.Options {
				if o == "" {
					d.errAt(f.spec, fmt.Sprintf("options[%d]", i), "field %q: option %d is empty", f.name, i)
				} else if seen[o] {
					d.errAt(f.spec, fmt.Sprintf("options[%d]", i), "field %q: duplicate option %q", f.name, o)
				}
				seen[o] = true
			}
			if qf.Type == 0 {
				qf.Type = qualification.Character
			}
			qfields = append(qfields, qf)
		}
		schema, err := qualification.NewSchema(name, qfields)
		if err != nil {
			// Field names are unique (duplicate keys are syntax errors) and IDs were
			// checked above; report anything else at the form.
			d.errorf(mv.Key, "%v", err)
			schema, _ = qualification.NewSchema(name, nil)
		}
		form.Schema = schema
		for _, f := range fields {
			d.nodes[nodeKey{form, "fields." + f.name}] = f.key
		}
		cfg.Forms = append(cfg.Forms, form)
	}
}

// Summary returns a one-line description of the configuration, such as
// "ok: 3 forms, 12 rules, 5 callouts, 2 webhooks".
func (c *Config) Summary() string {
	return fmt.Sprintf("ok: %s, %s, %s, %s",
		plural(len(c.Forms), "form"), plural(len(c.Rules), "rule"),
		plural(len(c.Callouts), "callout"), plural(len(c.Webhooks), "webhook"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Form returns the declared form called name.
func (c *Config) Form(name string) (*Form, bool) {
	if c.idx == nil { // a Config built by hand
		return find(c.Forms, func(f *Form) bool { return f.Name == name })
	}
	f, ok := c.idx.forms[name]
	return f, ok
}

// Callout returns the callout called name.
func (c *Config) Callout(name string) (*Callout, bool) {
	if c.idx == nil {
		return find(c.Callouts, func(co *Callout) bool { return co.Name == name })
	}
	co, ok := c.idx.callouts[name]
	return co, ok
}

// CallbackFunction returns the callback function with the API name name.
func (c *Config) CallbackFunction(name string) (*CallbackFunction, bool) {
	if c.idx == nil {
		return find(c.Callbacks, func(f *CallbackFunction) bool { return f.APIName == name })
	}
	f, ok := c.idx.callbacks[name]
	return f, ok
}

// Target returns the external-event target URL called name.
func (c *Config) Target(name string) (*TargetURL, bool) {
	if c.idx == nil {
		return find(c.Targets, func(t *TargetURL) bool { return t.Name == name })
	}
	t, ok := c.idx.targets[name]
	return t, ok
}

// find returns the first element of s for which match is true.
func find[T any](s []*T, match func(*T) bool) (*T, bool) {
	for _, v := range s {
		if match(v) {
			return v, true
		}
	}
	return nil, false
}

// WebhookRules returns the rules made from the webhooks, in webhook order.
func (c *Config) WebhookRules() []*Rule {
	if c.idx == nil {
		return nil
	}
	return c.idx.webhookRules
}

// AllRules returns the configured rules followed by the webhook rules.
func (c *Config) AllRules() []*Rule {
	out := make([]*Rule, 0, len(c.Rules)+len(c.WebhookRules()))
	out = append(out, c.Rules...)
	return append(out, c.WebhookRules()...)
}

// location returns the configured zone, UTC when unset.
func (c *Config) location() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}
