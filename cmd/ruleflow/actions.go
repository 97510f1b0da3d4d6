package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// writeRuleActionsText prints what a fired rule does besides callouts: its
// notification recipients.
func writeRuleActionsText(out *bufio.Writer, r *rules.Rule) {
	if r.Notify != nil && len(r.Notify.To) > 0 {
		fmt.Fprintf(out, "    notify %s\n", strings.Join(r.Notify.To, ", "))
	}
}

// writeActionsText prints the values the rules set, the rejection and the
// changes the cascade limits stopped, after the rules of an event.
func writeActionsText(out *bufio.Writer, res *engine.Result, loc *time.Location) {
	for _, a := range res.Set {
		fmt.Fprintf(out, "  set %s = %s (rule %q)\n", a.Field, engine.FormatValue(a.Value, loc), a.Rule)
	}
	if r := res.Rejected; r != nil {
		fmt.Fprintf(out, "  rejected by rule %q: %s\n", r.Rule, r.Message)
	}
	for _, l := range res.Limited {
		fmt.Fprintf(out, "  cascade stopped rule %q: %s\n", l.Rule, l.Reason)
	}
}

// replayActions is the --format json line of an event that set values or was rejected.
type replayActions struct {
	replayEvent
	Set      json.RawMessage  `json:"set,omitempty"`
	Rejected *rules.Rejection `json:"rejected,omitempty"`
	Limited  []rules.Limit    `json:"limited,omitempty"`
}

// writeActionsJSON writes the replayActions line of an event, if it set or was rejected.
func writeActionsJSON(enc *json.Encoder, name string, line int, ev *rules.Event, res *engine.Result, loc *time.Location) error {
	if len(res.Set) == 0 && res.Rejected == nil && len(res.Limited) == 0 {
		return nil
	}
	rec := replayActions{replayEvent: replayEventOf(name, line, ev), Rejected: res.Rejected, Limited: res.Limited}
	if len(res.Set) > 0 {
		rec.Set = engine.SetJSON(res.Set, loc)
	}
	return enc.Encode(rec)
}

// evalSet is one --set FIELD=EXPRESSION of `ruleflow eval`, compiled.
type evalSet struct {
	field string
	expr  *qualification.Expression
}

// compileSets compiles the --set arguments against schema (nil: any field name,
// dynamically typed) the way the rules' set values are compiled.
func compileSets(args []string, schema *qualification.Schema, opts qualification.Options) ([]evalSet, error) {
	var out []evalSet
	for _, arg := range args {
		name, src, ok := strings.Cut(arg, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("--set %q: want FIELD=EXPRESSION", arg)
		}
		var target *qualification.Field
		if schema != nil {
			f, ok := schema.Field(name)
			if !ok {
				return nil, fmt.Errorf("--set %s: form %q has no field %q", arg, schema.Name, name)
			}
			target, name = f, f.Name
		}
		x, err := qualification.CompileValue(src, target, opts)
		if err != nil {
			return nil, &exitError{code: exitInvalid, err: fmt.Errorf("--set %s: %w", name, err)}
		}
		out = append(out, evalSet{field: name, expr: x})
	}
	return out, nil
}

// printSets prints "FIELD = VALUE" for each --set, evaluated against env.
func printSets(stdout io.Writer, sets []evalSet, env *qualification.Env, loc *time.Location) error {
	for _, s := range sets {
		v, err := s.expr.Eval(env)
		if err != nil {
			return fmt.Errorf("--set %s: %w", s.field, err)
		}
		if _, err := fmt.Fprintf(stdout, "%s = %s\n", s.field, engine.FormatValue(v, loc)); err != nil {
			return err
		}
	}
	return nil
}
