package rules

import (
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strconv"
	"strings"
)

// Resource is someone notifications may name (Autotask notifies resources, not
// typed addresses): a unique name, an e-mail address and the roles held.
type Resource struct {
	Name  string   `yaml:"name" json:"name"`
	Email string   `yaml:"email" json:"email"`
	Roles []string `yaml:"roles,omitempty" json:"roles,omitempty"`
}

// The prefixes of notify.to entries that are not an address or a resource name.
const (
	RecipientRole  = "role:"  // role:<Role>: every resource holding the role
	RecipientField = "field:" // field:<Field>: the address or resource name in a record field
)

// resourceIndex holds the resources by name and by role.
type resourceIndex struct {
	byName map[string]*Resource
	byRole map[string][]*Resource
}

// recipient is one classified notify.to entry.
type recipient struct {
	kind  string // "address", "resource", "role", "field" or "unknown"
	value string // the address, name, role or field
}

// classify tells what a notify.to entry names: role:R, field:F, a resource name,
// else an address when it holds an @, else an unknown resource name.
func (ri *resourceIndex) classify(entry string) recipient {
	e := strings.TrimSpace(entry)
	switch {
	case strings.HasPrefix(e, RecipientRole):
		return recipient{"role", strings.TrimSpace(strings.TrimPrefix(e, RecipientRole))}
	case strings.HasPrefix(e, RecipientField):
		return recipient{"field", strings.TrimSpace(strings.TrimPrefix(e, RecipientField))}
	}
	if ri != nil {
		if _, ok := ri.byName[e]; ok {
			return recipient{"resource", e}
		}
	}
	if strings.Contains(e, "@") {
		return recipient{"address", e}
	}
	return recipient{"unknown", e}
}

// declareResources checks and indexes the resources: names unique and free of the
// role:/field: prefixes, addresses valid, roles non-empty.
func (d *decoder) declareResources(cfg *Config) {
	ri := &resourceIndex{byName: map[string]*Resource{}, byRole: map[string][]*Resource{}}
	cfg.idx.resources = ri
	for _, r := range cfg.Resources {
		valid := func(name string) string {
			switch {
			case strings.TrimSpace(name) == "":
				return "resource name must not be empty"
			case strings.HasPrefix(name, RecipientRole) || strings.HasPrefix(name, RecipientField):
				return fmt.Sprintf("resource name %q must not start with %s or %s", name, RecipientRole, RecipientField)
			case strings.Contains(name, "@"):
				return fmt.Sprintf("resource name %q must not contain @ (an address in notify.to would be ambiguous)", name)
			}
			return ""
		}
		declare(d, ri.byName, r, "name", "resource name", r.Name, valid)
		if _, err := mail.ParseAddress(r.Email); err != nil && d.has(r, "email") {
			d.errAt(r, "email", "resource %q: invalid e-mail address %q: %s", r.Name, r.Email, strings.TrimPrefix(err.Error(), "mail: "))
		}
		seen := map[string]bool{}
		for i, role := range r.Roles {
			path := "roles[" + strconv.Itoa(i) + "]"
			switch {
			case strings.TrimSpace(role) == "":
				d.errAt(r, path, "resource %q: role must not be empty", r.Name)
			case seen[role]:
				d.errAt(r, path, "resource %q: role %q is listed twice", r.Name, role)
			default:
				seen[role] = true
				ri.byRole[role] = append(ri.byRole[role], r)
			}
		}
	}
}

// checkNotifications checks every notify block once the rules are resolved: each
// notify.to entry names an address, a resource, a role some resource holds, or a
// field of every form the notification can be raised for; and a notify block needs
// the smtp block that sends it.
func (d *decoder) checkNotifications(cfg *Config) {
	smtpReported := false
	check := func(n *Notify, sources []*Rule) {
		if cfg.SMTP == nil && !smtpReported {
			smtpReported = true
			d.errAt(n, "", "notify needs an smtp block at the top level of the configuration: without one no e-mail is ever sent")
		}
		d.checkRecipients(cfg, n, sources)
	}
	users := map[*Callout][]*Rule{}
	for _, r := range cfg.Rules {
		for _, c := range r.Targets {
			users[c] = append(users[c], r)
		}
	}
	for _, c := range cfg.Callouts {
		if c.Notify != nil {
			check(c.Notify, users[c])
		}
	}
	for _, r := range cfg.Rules {
		if r.Notify != nil {
			check(r.Notify, []*Rule{r})
		}
	}
}

// checkRecipients checks the to entries of n; field entries are checked against the
// source of each rule in sources.
func (d *decoder) checkRecipients(cfg *Config, n *Notify, sources []*Rule) {
	ri := cfg.idx.resources
	for i, entry := range n.To {
		path := "to[" + strconv.Itoa(i) + "]"
		rc := ri.classify(entry)
		switch rc.kind {
		case "address":
			if _, err := mail.ParseAddress(rc.value); err != nil {
				d.errAt(n, path, "invalid e-mail address %q: %s", rc.value, strings.TrimPrefix(err.Error(), "mail: "))
			}
		case "unknown":
			d.errAt(n, path, "unknown resource %q (want an e-mail address, a resource name, %s<Role> or %s<Field>)%s", rc.value, RecipientRole, RecipientField, didYouMean(rc.value, slices.Sorted(maps.Keys(ri.byName))))
		case "role":
			if _, ok := ri.byRole[rc.value]; !ok {
				d.errAt(n, path, "unknown role %q: no resource holds it%s", rc.value, didYouMean(rc.value, slices.Sorted(maps.Keys(ri.byRole))))
			}
		case "field":
			if rc.value == "" {
				d.errAt(n, path, "%s needs a field name", RecipientField)
				continue
			}
			for _, r := range sources {
				if msg := cfg.sourceFieldProblem(r, rc.value); msg != "" {
					d.errAt(n, path, "%s: %s", entry, msg)
					break
				}
			}
		}
	}
}

// sourceFieldProblem describes why name is not a field of the events rule r runs
// on, or returns "".
func (c *Config) sourceFieldProblem(r *Rule, name string) string {
	if f, ok := c.idx.forms[r.Form]; ok {
		if _, ok := f.Schema.Field(name); !ok {
			return fmt.Sprintf("%q is not a field of form %q (rule %q)%s", name, f.Name, r.Name, didYouMean(name, fieldNames(f.Schema)))
		}
		return ""
	}
	if fn, ok := c.idx.callbacks[r.Form]; ok && slices.Contains(r.Events, KindCallback) {
		if _, ok := fn.Parameters[name]; !ok {
			return fmt.Sprintf("%q is not an argument of callback function %q (rule %q)", name, fn.APIName, r.Name)
		}
		return ""
	}
	if _, ok := c.idx.targets[r.Form]; ok {
		return externalPathProblem(name)
	}
	return "" // the rule's unknown form is reported already
}

// Recipients resolves the to entries of n for event ev to e-mail addresses, each
// once (compared without case), in order: an address as written; a resource's
// address ("Name <email>"); role:R every resource holding R, in file order;
// field:F the address or resource name held in field F of ev.Current() — read now,
// so callers resolve when the event is handled and store the result. With ev nil,
// field entries are skipped. The error names each entry that resolved to nothing
// (an empty field, a value that is neither an address nor a resource); the
// addresses of the others are returned with it.
func (c *Config) Recipients(n *Notify, ev *Event) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	var ri *resourceIndex
	if c.idx != nil {
		ri = c.idx.resources
	}
	out := []string{}
	seen := map[string]bool{}
	add := func(a *mail.Address) {
		if key := strings.ToLower(a.Address); !seen[key] {
			seen[key] = true
			if a.Name == "" {
				out = append(out, a.Address) // as written: ops@example.com
			} else {
				out = append(out, a.String())
			}
		}
	}
	addResource := func(r *Resource) bool {
		a, err := mail.ParseAddress(r.Email)
		if err != nil {
			return false
		}
		if a.Name == "" {
			a.Name = r.Name
		}
		add(a)
		return true
	}
	var errs []error
	for _, entry := range n.To {
		rc := ri.classify(entry)
		switch rc.kind {
		case "address", "unknown":
			list, err := mail.ParseAddressList(rc.value)
			if err != nil {
				errs = append(errs, fmt.Errorf("%q is neither an e-mail address nor a resource", rc.value))
				continue
			}
			for _, a := range list {
				add(a)
			}
		case "resource":
			addResource(ri.byName[rc.value])
		case "role":
			if ri == nil || len(ri.byRole[rc.value]) == 0 {
				errs = append(errs, fmt.Errorf("no resource holds role %q", rc.value))
			}
			if ri != nil {
				for _, r := range ri.byRole[rc.value] {
					addResource(r)
				}
			}
		case "field":
			if ev == nil {
				continue
			}
			if err := c.addFieldRecipient(ri, ev, rc.value, add, addResource); err != nil {
				errs = append(errs, fmt.Errorf("%s%s: %w", RecipientField, rc.value, err))
			}
		}
	}
	return out, errors.Join(errs...)
}

// addFieldRecipient adds the recipient held in field name of ev's record.
func (c *Config) addFieldRecipient(ri *resourceIndex, ev *Event, name string, add func(*mail.Address), addResource func(*Resource) bool) error {
	rec := ev.Current()
	v, ok := rec[name]
	if !ok {
		if _, schema, found := c.CalloutSource(ev); found && schema != nil {
			if f, ok := schema.Field(name); ok {
				v = rec[f.Name]
			}
		}
	}
	s, isText := v.(string)
	s = strings.TrimSpace(s)
	switch {
	case v == nil || isText && s == "":
		return errors.New("the field is empty")
	case !isText:
		return fmt.Errorf("the field holds a %T, not an address or a resource name", v)
	}
	if ri != nil {
		if r, ok := ri.byName[s]; ok {
			if !addResource(r) {
				return fmt.Errorf("resource %q has no valid address", s)
			}
			return nil
		}
	}
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return fmt.Errorf("value %q is neither an e-mail address nor a resource", s)
	}
	for _, a := range list {
		add(a)
	}
	return nil
}

// StaticRecipients is n with its to entries resolved without an event: addresses,
// resources and roles (field entries need the event; see Recipients).
func (c *Config) StaticRecipients(n *Notify) *Notify {
	if n == nil {
		return nil
	}
	cp := *n
	cp.To, _ = c.Recipients(n, nil)
	return &cp
}
