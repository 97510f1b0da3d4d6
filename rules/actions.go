package rules

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/ruleflow/ruleflow/qualification"
)

// Rule actions besides callouts (issue 13): set fields, reject the save, notify.
const (
	// MaxPasses is how many times the rules of one event are evaluated when rules
	// set values that other rules react to (Autotask's workflow depth).
	MaxPasses = 5
	// DefaultOrder is the execution order of a rule without order (AR System's default).
	DefaultOrder = 500
	// MaxOrder is the largest execution order.
	MaxOrder = 1000
)

// SetField is one compiled Set Fields assignment of a rule.
type SetField struct {
	Field string                    // the field's name in the form
	Expr  *qualification.Expression // its value, compiled against the form
}

// Assignment is one value a rule set while an event was processed.
type Assignment struct {
	Rule  string `json:"rule"`
	Field string `json:"field"`
	// Value is typed as the form says: string (character, selection option name),
	// int64, float64, time.Time, bool, or nil (the field was cleared).
	Value any `json:"value"`
	Pass  int `json:"pass"` // 1 for the first evaluation of the rules, 2.. for the cascade
}

// Rejection is a rule refusing an event's save.
type Rejection struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Limit is a change the cascade did not make: a rule whose condition held again
// after the last pass, or after it had fired already.
type Limit struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Outcome is what the rules did with one event (see Config.Run).
type Outcome struct {
	// Matches are the rules that fired, in the order they fired, with their
	// callouts split by the final values.
	Matches []Match
	// Set lists the values set, in the order applied; a field set twice appears twice.
	Set []Assignment
	// Rejected is the rejection, or nil when the save is accepted. A rejected
	// event sets nothing, and Matches holds only the rule that rejected it.
	Rejected *Rejection
	// Limited lists the changes the cascade limits stopped (MaxPasses, or a rule
	// that already fired); empty when the rules settled.
	Limited []Limit
	// Passes is how many passes over the rules ran.
	Passes int
	// Event is the event as the rules left it: After holds the set values and Set
	// names the fields set (the transaction's and the rules'). It is the caller's
	// event, unchanged, when no rule set a value.
	Event *Event
	// Errors holds the rules whose condition or set value could not be evaluated;
	// such a rule does not fire.
	Errors error
}

// orderOf is a rule's execution order.
func orderOf(r *Rule) int {
	if r.Order == nil {
		return DefaultOrder
	}
	return *r.Order
}

// orderRules sorts the rules of every (form, kind) by execution order, keeping
// file order among equal orders.
func orderRules(m map[formKind][]*Rule) {
	for _, rs := range m {
		slices.SortStableFunc(rs, func(a, b *Rule) int { return cmp.Compare(orderOf(a), orderOf(b)) })
	}
}

// checkActions validates a rule's actions and order and compiles its set
// expressions against schema (nil: dynamically typed, any field name).
func (d *decoder) checkActions(r *Rule, schema *qualification.Schema, formOK bool, opts qualification.Options) {
	if r.Order != nil && (*r.Order < 0 || *r.Order > MaxOrder) {
		d.errAt(r, "order", "order %d is out of range (want 0 to %d)", *r.Order, MaxOrder)
	}
	if len(r.Callouts) == 0 && len(r.Set) == 0 && r.Reject == "" && r.Notify == nil && !d.has(r, "callouts") && !d.has(r, "set") {
		d.errorf(d.node(r, ""), "rule %q has no action: give it callouts, set, reject or notify", r.Name)
	}
	if d.has(r, "reject") {
		if strings.TrimSpace(r.Reject) == "" {
			d.errAt(r, "reject", "reject needs a message")
		} else if len(r.Callouts) > 0 || len(r.Set) > 0 || r.Notify != nil {
			d.errAt(r, "reject", "a rule that rejects the save cannot also fire callouts, set fields or notify: a rejection enqueues and changes nothing")
		}
	}
	if n := r.Notify; n != nil {
		d.checkNotify(n)
		for _, k := range []string{"failures_only", "subject", "body", "subject_file", "body_file", "html_body_file"} {
			if d.has(n, k) {
				d.errAt(n, k, "a rule's notify takes only to (%s applies to callout notifications)", k)
			}
		}
	}
	if len(r.Set) == 0 {
		if d.has(r, "set") {
			d.errAt(r, "set", "set must name at least one field")
		}
		return
	}
	if slices.Contains(r.Events, KindDelete) {
		d.errAt(r, "set", "set cannot change a deleted record (the rule listens for delete events)")
	}
	if !formOK {
		return
	}
	for _, key := range d.setKeys(r) {
		name, target := key, (*qualification.Field)(nil)
		if schema != nil {
			f, ok := schema.Field(key)
			if !ok && allDigits(key) {
				if id, err := strconv.ParseInt(key, 10, 64); err == nil {
					f, ok = schema.FieldByID(id)
				}
			}
			if !ok {
				d.errAt(r, "set."+key+"#key", "set: %q is not a field of form %q%s", key, schema.Name, didYouMean(key, fieldNames(schema)))
				continue
			}
			name, target = f.Name, f
		}
		if slices.ContainsFunc(r.SetFields, func(s SetField) bool { return s.Field == name }) {
			d.errAt(r, "set."+key+"#key", "set: field %q is set twice", name)
			continue
		}
		x, err := qualification.CompileValue(r.Set[key], target, opts)
		if err != nil {
			d.qualErrorsAt(d.node(r, "set."+key), "invalid value for "+strconv.Quote(name), err)
			continue
		}
		r.SetFields = append(r.SetFields, SetField{Field: name, Expr: x})
	}
}

// setKeys returns the keys of a rule's set mapping in file order.
func (d *decoder) setKeys(r *Rule) []string {
	keys := slices.Sorted(maps.Keys(r.Set))
	slices.SortStableFunc(keys, func(a, b string) int {
		pa, pb := d.pos(d.node(r, "set."+a+"#key")), d.pos(d.node(r, "set."+b+"#key"))
		return cmp.Or(cmp.Compare(pa.Line, pb.Line), cmp.Compare(pa.Column, pb.Column))
	})
	return keys
}

func allDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// qualErrorsAt reports the errors of a qualification or expression compiled from
// the YAML scalar n, each at the offending token inside the scalar, as "what: msg".
func (d *decoder) qualErrorsAt(n ast.Node, what string, err error) {
	n = d.resolve(n)
	var idx []int
	if text, isString, ok := scalarText(n); ok && isString && d.lookupEnv != nil {
		_, idx, _ = expandEnv(text, d.lookupEnv)
	}
	for _, qe := range qualErrors(err) {
		off := qe.Offset
		if idx != nil {
			if off < len(idx) {
				off = idx[off]
			} else if len(idx) > 0 {
				off = idx[len(idx)-1] + 1
			}
		}
		d.errorAtPos(d.valuePos(n, off), "%s: %s", what, qe.Msg)
	}
}

// Run processes an event through its rules as a save hook does, with the rules'
// actions (issue 13):
//
//   - Rules run in execution order (order, then file order). A rule whose
//     condition holds fires: its set values are applied to the event's
//     after-values at once, so later rules see them ('TR.F' is non-NULL for a
//     field set by an earlier rule).
//   - A rule that rejects stops processing: no further rule runs and the
//     Outcome holds the rejection.
//   - When a pass has changed values, the rules that have not fired yet are
//     evaluated again against the new values, up to MaxPasses passes. Each rule
//     fires at most once per event. A change the limits stop is reported in
//     Outcome.Limited: a rule whose condition holds after the last pass, or a rule
//     that fired already and whose condition holds again after another rule
//     changed a field it set.
//
// The callouts of the rules that fired are split (inactive, UDF empty) by the
// final values. Run never modifies ev.
func (c *Config) Run(ev *Event) *Outcome {
	out := &Outcome{Event: ev}
	if c.idx == nil {
		out.Errors = errors.New("rules: Run on a Config that was not built by Load, Parse or WithWebhooks")
		return out
	}
	rules := c.idx.rules[formKind{ev.Form, ev.Kind}]
	if len(rules) == 0 {
		return out
	}
	run := &runState{cfg: c, ev: ev, out: out, fired: make([]bool, len(rules))}
	var matched []*Rule
	changed := true
	for out.Passes < MaxPasses && changed {
		out.Passes++
		changed = false
		// prev holds the fields the last pass changed; changed collects this pass's.
		run.prev, run.changed = run.changed, run.prev
		run.changed.Reset()
		for i, r := range rules {
			if run.fired[i] || !r.IsActive() {
				continue
			}
			if out.Passes > 1 && !readsAny(r, &run.prev) {
				continue // it did not hold, and reads nothing that changed since
			}
			if !run.holds(i, r, out.Passes == 1) {
				continue
			}
			run.fired[i] = true
			if r.Reject != "" {
				out.Rejected = &Rejection{Rule: r.Name, Message: r.Reject}
				out.Matches = []Match{{Rule: r}}
				out.Set, out.Limited, out.Event = nil, nil, ev // a refused save sets nothing
				out.Errors = errors.Join(run.errs...)
				return out
			}
			if len(r.SetFields) > 0 {
				ok, ch := run.apply(i, r, out.Passes)
				if !ok {
					run.fired[i] = false
					run.failed = append(run.failed, i)
					continue
				}
				changed = changed || ch
			}
			matched = append(matched, r)
		}
	}
	run.report(rules, changed)
	cur := out.Event.Current()
	out.Matches = splitAll(matched, cur) // match.go
	out.Errors = errors.Join(run.errs...)
	return out
}

// runState is one event going through Config.Run.
type runState struct {
	cfg    *Config
	ev     *Event // the caller's event
	out    *Outcome
	env    *qualification.Env // of out.Event, updated in place by apply
	fired  []bool
	failed []int         // rules that errored: not evaluated again
	setter []fieldSetter // the rule that set each field last
	redo   []int         // fired rules whose value another rule changed
	// changed are the fields whose value (or TR. value) changed in this pass,
	// prev those of the pass before.
	changed, prev qualification.FieldSet
	errs          []error
}

func (s *runState) environment() *qualification.Env {
	if s.env == nil {
		s.env = qualification.NewEnv(s.cfg.input(s.out.Event))
	}
	return s.env
}

// holds evaluates rule i's condition; an error is reported once.
func (s *runState) holds(i int, r *Rule, report bool) bool {
	if slices.Contains(s.failed, i) {
		return false
	}
	if r.Program == nil {
		return true
	}
	ok, err := r.Program.Eval(s.environment())
	if err != nil {
		s.errs = append(s.errs, &RuleError{Rule: r.Name, Err: err})
		s.failed = append(s.failed, i)
		return false
	}
	return ok
}

// apply evaluates rule i's set values against the current values (all of them
// first, as one Set Fields action does) and applies them. changed reports
// whether a value or the transaction's set fields changed.
func (s *runState) apply(i int, r *Rule, pass int) (ok, changed bool) {
	env := s.environment()
	var buf [4]any
	vals := buf[:0]
	for _, sf := range r.SetFields {
		v, err := sf.Expr.Eval(env)
		if err != nil {
			s.errs = append(s.errs, &RuleError{Rule: r.Name, Err: fmt.Errorf("set %q: %w", sf.Field, err)})
			return false, false
		}
		vals = append(vals, v)
	}
	ev := s.out.Event
	if ev == s.ev { // copy on first write: the caller's event is not ours
		cp := *ev
		cp.Set = env.SetFields()
		ev = &cp
		s.out.Event = ev
		s.out.Set = make([]Assignment, 0, 4)
		s.setter = make([]fieldSetter, 0, 4)
	}
	for k, sf := range r.SetFields {
		old, had := ev.After[sf.Field]
		wasSet := slices.Contains(ev.Set, sf.Field)
		if !wasSet {
			ev.Set = append(ev.Set, sf.Field)
		}
		// The Env updates its views and its copy of the after-values in place.
		env.Assign(sf.Field, vals[k])
		ev.After = env.AfterValues()
		if !had || !qualification.SameValue(old, vals[k]) || !wasSet {
			changed = true
			s.changed.Add(sf.Field)
			if j, ok := s.setterOf(sf.Field); ok && j != i && !slices.Contains(s.redo, j) {
				s.redo = append(s.redo, j)
			}
		}
		s.setSetter(sf.Field, i)
		s.out.Set = append(s.out.Set, Assignment{Rule: r.Name, Field: sf.Field, Value: vals[k], Pass: pass})
	}
	return true, changed
}

// setterOf returns the index of the rule that set field last.
func (s *runState) setterOf(field string) (int, bool) {
	for _, st := range s.setter {
		if st.field == field {
			return st.rule, true
		}
	}
	return 0, false
}

// setSetter records that rule i set field last.
func (s *runState) setSetter(field string, i int) {
	for k := range s.setter {
		if s.setter[k].field == field {
			s.setter[k].rule = i
			return
		}
	}
	s.setter = append(s.setter, fieldSetter{field, i})
}

// fieldSetter is the rule that set a field last.
type fieldSetter struct {
	field string
	rule  int
}

// report records the changes the limits stopped: after a last pass that still
// changed values, the rules that have not fired and now hold; and the rules that
// fired but hold again after another rule changed a value they set.
func (s *runState) report(rules []*Rule, changed bool) {
	if changed && s.out.Passes == MaxPasses {
		for i, r := range rules {
			if !s.fired[i] && r.IsActive() && r.Program != nil && !slices.Contains(s.failed, i) {
				if ok, err := r.Program.Eval(s.environment()); err == nil && ok {
					s.out.Limited = append(s.out.Limited, Limit{Rule: r.Name, Reason: fmt.Sprintf("its condition holds after the last of %d passes; it did not fire", MaxPasses)})
				}
			}
		}
	}
	slices.Sort(s.redo)
	for _, i := range s.redo {
		r := rules[i]
		if r.Program == nil {
			continue
		}
		if ok, err := r.Program.Eval(s.environment()); err == nil && ok && s.wouldChange(r) {
			s.out.Limited = append(s.out.Limited, Limit{Rule: r.Name, Reason: "its condition holds again after another rule changed a value it set; a rule fires at most once per event"})
		}
	}
}

// wouldChange reports whether firing r again would set a value that differs
// from the current one.
func (s *runState) wouldChange(r *Rule) bool {
	env := s.environment()
	for _, sf := range r.SetFields {
		v, err := sf.Expr.Eval(env)
		if err != nil || !qualification.SameValue(v, s.out.Event.After[sf.Field]) {
			return true
		}
	}
	return false
}

// readsAny reports whether rule r's condition reads one of fields.
func readsAny(r *Rule, fields *qualification.FieldSet) bool {
	if r.Program == nil {
		return false // a rule without a condition fired in the first pass
	}
	return r.Program.ReadsAny(fields)
}
