package rules

import (
	"os"

	"github.com/ruleflow/ruleflow/qualification"
)

// LoadForms reads only the forms: section of the configuration file at path and
// returns each form's field schema by form name. Every other key is ignored, so
// `ruleflow eval --config` works with a configuration that is still being written.
// The forms themselves are decoded and checked exactly as by Load, and errors are an
// ErrorList positioned in the file.
func LoadForms(path string) (map[string]*qualification.Schema, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src := newSource(path, text)
	body, err := parseYAML(src)
	if err != nil {
		return nil, err
	}
	d := newDecoder(src, os.LookupEnv)
	d.collectAnchors(body)
	entries, ok := d.mappingEntries(d.resolve(body))
	if !ok {
		d.errorf(body, "the configuration must be a mapping, got %s", describe(d.resolve(body)))
	}
	cfg := &Config{}
	for _, mv := range entries {
		if k, _ := d.keyString(mv.Key); k == "forms" {
			d.decodeForms(cfg, mv.Value)
		}
	}
	if len(d.errs) > 0 {
		d.errs.Sort()
		return nil, d.errs
	}
	out := make(map[string]*qualification.Schema, len(cfg.Forms))
	for _, f := range cfg.Forms {
		out[f.Name] = f.Schema
	}
	return out, nil
}
