package rules

import (
	"strconv"
	"strings"
)

// formRenamedFrom takes a form's renamed_from list from its decoded spec, with the
// positions of its entries for checkFormRenamedFrom.
func (d *decoder) formRenamedFrom(form *Form, spec *formSpec) []string {
	for _, k := range []string{"renamed_from"} {
		if nd, ok := d.nodes[nodeKey{spec, k}]; ok {
			d.nodes[nodeKey{form, k}] = nd
		}
	}
	for i := range spec.RenamedFrom {
		k := "renamed_from[" + strconv.Itoa(i) + "]"
		if nd, ok := d.nodes[nodeKey{spec, k}]; ok {
			d.nodes[nodeKey{form, k}] = nd
		}
	}
	return spec.RenamedFrom
}

// checkFormRenamedFrom checks the forms' renamed_from lists: a former name must not
// be empty, must not be a form still declared, and may be claimed by one form only,
// once.
func (d *decoder) checkFormRenamedFrom(cfg *Config, forms map[string]*Form) {
	claimed := map[string]*Form{}
	for _, f := range cfg.Forms {
		seen := map[string]bool{}
		for i, old := range f.RenamedFrom {
			path := "renamed_from[" + strconv.Itoa(i) + "]"
			switch first, taken := claimed[old]; {
			case strings.TrimSpace(old) == "":
				d.errAt(f, path, "renamed_from entry must not be empty")
			case old == f.Name:
				d.errAt(f, path, "form %q lists its own name in renamed_from", f.Name)
			case forms[old] != nil:
				d.errAt(f, path, "renamed_from %q names a form that is still declared (line %d)", old, d.pos(d.node(forms[old], "")).Line)
			case seen[old]:
				d.errAt(f, path, "renamed_from lists %q twice", old)
			case taken:
				d.errAt(f, path, "renamed_from %q is already claimed by form %q (line %d)", old, first.Name, d.pos(d.node(first, "")).Line)
			default:
				claimed[old] = f
			}
			seen[old] = true
		}
	}
}

// FormRenamedFrom returns the declared form that lists old in its renamed_from.
func (c *Config) FormRenamedFrom(old string) (*Form, bool) {
	for _, f := range c.Forms {
		for _, o := range f.RenamedFrom {
			if o == old {
				return f, true
			}
		}
	}
	return nil, false
}

// ruleFormRenamed resolves a rule whose form is a former name of a declared form
// (its renamed_from): the rule follows the form to its new name.
func (d *decoder) ruleFormRenamed(cfg *Config, r *Rule) (*Form, bool) {
	f, ok := cfg.FormRenamedFrom(r.Form)
	if ok {
		r.Form = f.Name
	}
	return f, ok
}
