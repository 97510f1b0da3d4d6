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
	m := Match{Rule: r}
	for _, co := range r.Targets {
		switch {
		case !co.IsActive():
			m.Skipped = append(m.Skipped, Skip{Callout: co, Reason: "inactive"})
		case co.UDF != "" && isEmptyValue(cur[co.UDF]):
			m.Skipped = append(m.Skipped, Skip{Callout: co, Reason: "udf " + co.UDF + " empty"})
		default:
			m.Fire = append(m.Fire, co)
		}
	}
	return m
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
