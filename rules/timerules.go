package rules

import (
	"strconv"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
)

// KindTime is the event kind of a time-based rule: the rule fires when its anchor
// field's value plus an offset falls due, not on a save. Hosts never send it.
const KindTime Kind = "time"

// At is when a time rule falls due: the value of Field (a datetime or date field of
// the rule's form) plus Offset, which may be negative ("-30m": before the field).
type At struct {
	Field  string `yaml:"field" json:"field"`
	Offset Offset `yaml:"offset,omitempty" json:"offset,omitempty"`
}

// Repeat makes a time rule fire again Every interval after its due time while its
// condition holds, at most Max more times.
type Repeat struct {
	Every Duration `yaml:"every" json:"every"`
	Max   int      `yaml:"max" json:"max"`
}

// Offset is a signed time.Duration written as a Go duration string ("2h", "-30m").
type Offset time.Duration

// Std returns o as a time.Duration.
func (o Offset) Std() time.Duration { return time.Duration(o) }

// String returns o in Go duration syntax.
func (o Offset) String() string { return time.Duration(o).String() }

// MarshalText writes o in Go duration syntax.
func (o Offset) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// MinRepeatEvery is the shortest repeat interval a time rule may configure.
const MinRepeatEvery = time.Second

// MaxTimeRepeats bounds Repeat.Max, so one record cannot arm an endless series.
const MaxTimeRepeats = 1000

// IsTimeRule reports whether the rule fires on the clock (events: [time]).
func (r *Rule) IsTimeRule() bool {
	return len(r.Events) == 1 && r.Events[0] == KindTime
}

// DueAt returns when the time rule falls due for a record with values rec, and false
// when the anchor field is NULL (or not a time), which arms nothing.
func (r *Rule) DueAt(rec Record) (anchor, due time.Time, ok bool) {
	if r.At == nil {
		return time.Time{}, time.Time{}, false
	}
	t, ok := rec[r.At.Field].(time.Time)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	return t, t.Add(r.At.Offset.Std()), true
}

// Repetitions returns how many firings the time rule may make per anchor value:
// the first plus Repeat.Max.
func (r *Rule) Repetitions() int {
	if r.Repeat == nil {
		return 1
	}
	return 1 + r.Repeat.Max
}

// checkTimeRule checks the time-based keys of rule r (events: [time], at, repeat)
// against the form's schema; formOK reports whether the form was resolved.
func (d *decoder) checkTimeRule(r *Rule, schema *qualification.Schema, formOK bool) {
	timed := false
	for _, k := range r.Events {
		timed = timed || k == KindTime
	}
	if !timed {
		if r.At != nil {
			d.errAt(r, "at", "rule %q has at but is not a time rule (events: [time])", r.Name)
		}
		if r.Repeat != nil {
			d.errAt(r, "repeat", "rule %q has repeat but is not a time rule (events: [time])", r.Name)
		}
		return
	}
	if len(r.Events) > 1 {
		for i, k := range r.Events {
			if k != KindTime {
				d.errAt(r, "events["+strconv.Itoa(i)+"]", "rule %q: events: [time] cannot be mixed with %s events; write a separate rule", r.Name, k)
			}
		}
	}
	if r.Reject != "" {
		d.errAt(r, "reject", "rule %q is a time rule: there is no save to reject", r.Name)
	}
	if len(r.Set) > 0 {
		d.errAt(r, "set", "rule %q is a time rule: there is no save whose fields it could set", r.Name)
	}
	d.checkAt(r, schema, formOK)
	if rp := r.Repeat; rp != nil {
		if rp.Every.Std() < MinRepeatEvery {
			d.errAt(rp, "every", "repeat every %s is too short (minimum 1s)", rp.Every)
		}
		if rp.Max < 1 || rp.Max > MaxTimeRepeats {
			d.errAt(rp, "max", "repeat max %d out of range (1 to %d)", rp.Max, MaxTimeRepeats)
		}
	}
}

// checkAt checks that a time rule's anchor is a datetime or date field of its form.
func (d *decoder) checkAt(r *Rule, schema *qualification.Schema, formOK bool) {
	if r.At == nil {
		d.errAt(r, "events", "rule %q is a time rule and needs at: {field, offset}", r.Name)
		return
	}
	if r.At.Field == "" {
		d.errAt(r.At, "field", "rule %q: at.field must name a datetime or date field", r.Name)
		return
	}
	if !formOK {
		return
	}
	if schema == nil {
		d.errAt(r, "form", "rule %q is a time rule: its form must be a declared form", r.Name)
		return
	}
	f, ok := schema.Field(r.At.Field)
	if !ok {
		d.errAt(r.At, "field", "at.field %q is not a field of form %q", r.At.Field, schema.Name)
		return
	}
	if f.Type != qualification.DateTime && f.Type != qualification.Date {
		d.errAt(r.At, "field", "at.field %q is %s field of form %q; it must be a datetime or date field", r.At.Field, article(f.Type.String()), schema.Name)
	}
}
