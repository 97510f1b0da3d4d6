package rules

import (
	"errors"
	"fmt"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
)

// TimeRules returns the time-based rules of form (events: [time]), in execution
// order, or nil.
func (c *Config) TimeRules(form string) []*Rule {
	if c.idx == nil {
		return nil
	}
	return c.idx.rules[formKind{form, KindTime}]
}

// TimeRule returns the time-based rule of form named name, or nil.
func (c *Config) TimeRule(form, name string) *Rule {
	for _, r := range c.TimeRules(form) {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// FireTime evaluates time rule r for the record of ev (an event of kind time whose
// Time is the due time, so $TIMESTAMP$ is the due time) and returns its match when
// the rule is active and its condition holds, else nil. A time rule has no actions:
// nothing is set, nothing cascades, and no other rule runs.
func (c *Config) FireTime(r *Rule, ev *Event) (*Match, error) {
	if c.idx == nil {
		return nil, errors.New("rules: FireTime on a Config that was not built by Load, Parse or WithWebhooks")
	}
	if !r.IsTimeRule() {
		return nil, fmt.Errorf("rules: rule %q is not a time rule", r.Name)
	}
	if !r.IsActive() {
		return nil, nil
	}
	if r.Program != nil {
		ok, err := r.Program.Eval(qualification.NewEnv(c.input(ev)))
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", r.Name, err)
		}
		if !ok {
			return nil, nil
		}
	}
	m := splitCallouts(r, ev.Current())
	return &m, nil
}

// TimeDue returns when time rule r falls due for a record with values rec, and
// false when the anchor is NULL (or not a time), which arms nothing. The offset of
// a datetime anchor is an exact duration; the offset of a date anchor counts on
// the wall clock of the configuration's time zone from the start of that day, so
// "offset: 9h" on a date is 09:00 local on both sides of a daylight-saving change.
func (c *Config) TimeDue(r *Rule, rec Record) (anchor, due time.Time, ok bool) {
	anchor, due, ok = r.DueAt(rec)
	if !ok {
		return anchor, due, ok
	}
	f, found := c.Form(r.Form)
	if !found || f.Schema == nil {
		return anchor, due, ok
	}
	if fld, ok := f.Schema.Field(r.At.Field); ok && fld.Type == qualification.Date {
		loc := c.location()
		y, m, d := anchor.In(loc).Date()
		off := r.At.Offset.Std()
		days := off / (24 * time.Hour)
		// time.Date normalises on the wall clock: whole days, then the rest.
		due = time.Date(y, m, d+int(days), 0, 0, 0, int(off-days*24*time.Hour), loc)
	}
	return anchor, due, true
}
