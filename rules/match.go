package rules

import (
	"errors"
	"fmt"

	"github.com/ruleflow/ruleflow/qualification"
)

// Match is one rule that matched an event: the callouts to fire, in the order the
// rule lists them, and the callouts it skipped with the reason.
type Match struct {
	Rule    *Rule
	Fire    []*Callout
	Skipped []Skip
}

// Skip is a callout of a matching rule that does not fire.
type Skip struct {
	Callout *Callout
	// Reason is "inactive" or "udf <Name> empty".
	Reason string
}

// Match returns the active rules for the event's (form, kind) whose condition holds,
// in configuration order (configured rules, then webhooks). Each rule's callouts are
// split into those that fire and those skipped because they are inactive or their
// UDF has no value in the record.
//
// One evaluation environment is built per event and shared by all rules. A rule whose
// condition fails to evaluate is left out and its error collected; the other rules
// are still matched, and the errors are returned together with the matches.
func (c *Config) Match(ev *Event) ([]Match, error) {
	if c.idx == nil {
		return nil, errors.New("rules: Match on a Config that was not built by Load, Parse or WithWebhooks")
	}
	rules := c.idx.rules[formKind{ev.Form, ev.Kind}]
	if len(rules) == 0 {
		return nil, nil
	}
	var (
		env  *qualification.Env
		out  []Match
		errs []error
	)
	cur := ev.Current()
	for _, r := range rules {
		if !r.IsActive() {
			continue
		}
		if r.Program != nil {
			if env == nil {
				env = qualification.NewEnv(c.input(ev))
			}
			ok, err := r.Program.Eval(env)
			if err != nil {
				errs = append(errs, fmt.Errorf("rule %q: %w", r.Name, err))
				continue
			}
			if !ok {
				continue
			}
		}
		out = append(out, splitCallouts(r, cur))
	}
	return out, errors.Join(errs...)
}

// splitCallouts is the Match of rule r on record cur: its callouts split into
// those that fire and those skipped because they are inactive or their UDF is empty.
func splitCallouts(r *Rule, cur Record) Match {
	m, _ := splitOnto(r, cur, nil)
	return m
}

// splitOnto is splitCallouts appending the callouts that fire to fire, of which
// Match.Fire is then a slice (capped, so that appending to it copies it); it
// returns fire grown.
func splitOnto(r *Rule, cur Record, fire []*Callout) (Match, []*Callout) {
	m := Match{Rule: r}
	start := len(fire)
	for _, co := range r.Targets {
		switch {
		case !co.IsActive():
			m.Skipped = append(m.Skipped, Skip{Callout: co, Reason: "inactive"})
		case co.UDF != "" && isEmptyValue(cur[co.UDF]):
			m.Skipped = append(m.Skipped, Skip{Callout: co, Reason: "udf " + co.UDF + " empty"})
		default:
			fire = append(fire, co)
		}
	}
	if len(fire) > start {
		m.Fire = fire[start:len(fire):len(fire)]
	}
	return m, fire
}

// splitAll is the Matches of the rules matched on record cur (splitCallouts of
// each), allocated at once: one slice of matches, and one array of the callouts
// they fire.
func splitAll(matched []*Rule, cur Record) []Match {
	if len(matched) == 0 {
		return nil
	}
	n := 0
	for _, r := range matched {
		n += len(r.Targets)
	}
	fire := make([]*Callout, 0, n)
	out := make([]Match, len(matched))
	for i, r := range matched {
		out[i], fire = splitOnto(r, cur, fire)
	}
	return out
}

// input is the qualification view of an event.
func (c *Config) input(ev *Event) *qualification.Input {
	return &qualification.Input{
		Operation: string(ev.Kind),
		Form:      ev.Form,
		Before:    ev.Before,
		After:     ev.After,
		Set:       ev.Set,
		User:      ev.User,
		Groups:    ev.Groups,
		Now:       ev.Time,

		StatusHistory: ev.StatusHistory,
	}
}

// isEmptyValue reports whether a UDF value counts as "no value": NULL or "".
func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	}
	return false
}
