package qualification

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestAssign checks that an Env changed by Assign evaluates every view as a
// fresh Env of the changed record does, with and without a schema, whether the
// transaction's set fields are given or derived, and that the caller's map is
// left alone.
func TestAssign(t *testing.T) {
	schema := ticketSchema(t)
	conds := []string{
		`'Status' = "Resolved"`,
		`'TR.Status' = "Resolved"`,
		`'TR.Status' = $NULL$`,
		`'DB.Status' = "Assigned"`,
		`'Short Description' LIKE "%router%"`,
		`'TR.Short Description' != $NULL$`,
		`'Priority' > 2 AND 'TR.Priority' = $NULL$`,
		`'Assignee' = $NULL$`,
		`'TR.Assignee' = "bob"`,
	}
	type assignment struct {
		field string
		value any
	}
	for _, tc := range []struct {
		name    string
		op      string
		set     []string
		assigns []assignment
	}{
		{"update, set derived", "update", nil, []assignment{{"Status", "Resolved"}, {"Assignee", "bob"}}},
		{"update, set given", "update", []string{"Priority"}, []assignment{{"Short Description", "router down"}, {"Status", "Resolved"}}},
		{"update, same value", "update", nil, []assignment{{"Status", "Assigned"}}},
		{"update, cleared", "update", nil, []assignment{{"Short Description", nil}, {"Priority", int64(3)}}},
		{"create", "create", nil, []assignment{{"Status", "Resolved"}, {"TR.Literal", "x"}}},
		{"twice", "update", nil, []assignment{{"Status", "Resolved"}, {"Status", "Closed"}, {"Assignee", "bob"}}},
	} {
		for _, withSchema := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/schema=%v", tc.name, withSchema), func(t *testing.T) {
				opts := Options{}
				if withSchema {
					opts.Schema = schema
				}
				progs := make([]*Program, len(conds))
				for i, c := range conds {
					p, err := Compile(c, opts)
					if err != nil {
						t.Fatal(err)
					}
					progs[i] = p
				}
				before := map[string]any{"Status": "Assigned", "Short Description": "printer", "Priority": int64(2)}
				after := map[string]any{"Status": "Assigned", "Short Description": "printer", "Priority": int64(3)}
				if tc.op == "create" {
					before = nil
				}
				orig := maps.Clone(after)
				in := &Input{Operation: tc.op, Form: "Ticket", Before: before, After: after, Set: tc.set}
				env := NewEnv(in)
				evalAll(t, progs, env) // fill the Env's caches first
				want := maps.Clone(after)
				wantSet := NewEnv(in).SetFields()
				for _, a := range tc.assigns {
					env.Assign(a.field, a.value)
					want[a.field] = a.value
					if !slices.Contains(wantSet, a.field) {
						wantSet = append(wantSet, a.field)
					}
				}
				fresh := NewEnv(&Input{Operation: tc.op, Form: "Ticket", Before: before, After: want, Set: wantSet})
				if got, want := evalAll(t, progs, env), evalAll(t, progs, fresh); got != want {
					t.Errorf("after Assign:\n got %s\nwant %s", got, want)
				}
				if got, want := env.SetFields(), fresh.SetFields(); !slices.Equal(got, want) {
					t.Errorf("SetFields %q, want %q", got, want)
				}
				if !maps.Equal(env.AfterValues(), want) {
					t.Errorf("AfterValues %v, want %v", env.AfterValues(), want)
				}
				if !maps.Equal(after, orig) {
					t.Errorf("the Input's map changed: %v, was %v", after, orig)
				}
			})
		}
	}
}

// TestAssignDelete checks that Assign leaves a delete event's Env alone.
func TestAssignDelete(t *testing.T) {
	p, err := Compile(`'Status' = "Assigned" AND 'TR.Status' = $NULL$`, Options{Schema: ticketSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	env := NewEnv(&Input{Operation: "delete", Before: map[string]any{"Status": "Assigned"}})
	env.Assign("Status", "Closed")
	if ok, err := p.Eval(env); err != nil || !ok {
		t.Errorf("Eval = %v, %v; want true", ok, err)
	}
	if env.AfterValues() != nil {
		t.Errorf("AfterValues = %v, want nil", env.AfterValues())
	}
}

// evalAll returns the programs' results against env, one line each.
func evalAll(t *testing.T, progs []*Program, env *Env) string {
	t.Helper()
	var b strings.Builder
	for _, p := range progs {
		ok, err := p.Eval(env)
		fmt.Fprintf(&b, "%s → %v %v; ", p.Source(), ok, err)
	}
	return b.String()
}

// TestReadsAny checks ReadsAny against Reads for every subset of some names,
// compiled with a schema, without one, and with a schema of more than 64 fields.
func TestReadsAny(t *testing.T) {
	big := make([]Field, 70)
	for i := range big {
		big[i] = fld(fmt.Sprintf("F%d", i), int64(i+1), Integer)
	}
	bigSchema := mustSchema(t, "Big", big...)
	for _, tc := range []struct {
		name  string
		opts  Options
		conds []string
		names []string
	}{
		{"schema", Options{Schema: ticketSchema(t)},
			[]string{`'Status' = "New"`, `'TR.Priority' > 2 OR 'DB.Assignee' = "x"`, `'Short Description' LIKE "%a%"`, `$USER$ = "x"`, `EXTERNAL('Assignee')`},
			[]string{"Status", "Priority", "Assignee", "Cost", "Not A Field"}},
		{"no schema", Options{},
			[]string{`'Status' = "New"`, `'TR.Priority' > 2 OR 'DB.Assignee' = "x"`, `$USER$ = "x"`},
			[]string{"Status", "Priority", "Assignee", "Cost"}},
		{"large schema", Options{Schema: bigSchema},
			[]string{`'F1' = 1`, `'F65' = 1`, `'F3' = 1 AND 'F69' = 2`},
			[]string{"F1", "F3", "F65", "F69", "F40"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fs FieldSet
			for _, c := range tc.conds {
				p, err := Compile(c, tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				for subset := range 1 << len(tc.names) {
					fs.Reset()
					want := false
					for i, n := range tc.names {
						if subset&(1<<i) != 0 {
							fs.Add(n)
							fs.Add(n) // a name once
							want = want || p.Reads(n)
						}
					}
					if fs.Len() != popcount(subset) {
						t.Fatalf("Len %d for subset %b", fs.Len(), subset)
					}
					if strings.Contains(c, "EXTERNAL") && want != (subset != 0) {
						t.Fatalf("%s: Reads is %v for %q; want true: EXTERNAL may read any field", c, want, fs.names)
					}
					if got := p.ReadsAny(&fs); got != want {
						t.Errorf("%s: ReadsAny(%q) = %v, want %v", c, fs.names, got, want)
					}
				}
			}
		})
	}
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}
