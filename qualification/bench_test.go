package qualification

import (
	"fmt"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

const (
	benchA = `'Status' != "Closed" AND 'Priority' >= 2 AND 'Short Description' LIKE "%router%"`
	benchB = `('Status' != "Closed" AND NOT ('Priority' < 2 OR 'Submitter' = $NULL$)) AND ('Assignee' != $NULL$ OR 'Urgency' <= "2-High") ` +
		`AND NOT 'Short Description' LIKE "%test%" AND ('Cost' > 10.5 OR 'TR.Priority' != $NULL$) AND 'DB.Status' = "New" AND 'Escalated' = 0`
	benchC = `'Status' < "Resolved"`
)

func benchInput() *Input {
	return &Input{
		Operation: "update", Form: "Ticket", User: "jsmith", Now: testNow,
		Before: map[string]any{"Status": "New", "Priority": int64(1), "Short Description": "the router is down", "Submitter": "jsmith", "Cost": 3.5},
		After: map[string]any{"Status": "Pending", "Priority": int64(3), "Short Description": "the router is down", "Submitter": "jsmith",
			"Assignee": "bob", "Urgency": "2-High", "Cost": 12.5, "Escalated": false},
	}
}

func BenchmarkCompile(b *testing.B) {
	s := ticketSchema(b)
	for _, bc := range []struct {
		name, src string
		schema    *Schema
	}{{"a", benchA, nil}, {"a-schema", benchA, s}, {"b", benchB, s}, {"c", benchC, s}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compile(bc.src, Options{Schema: bc.schema}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEval(b *testing.B) {
	s := ticketSchema(b)
	env := NewEnv(benchInput())
	for _, bc := range []struct {
		name, src string
		schema    *Schema
		want      bool
	}{{"a", benchA, nil, true}, {"a-schema", benchA, s, true}, {"b", benchB, s, true}, {"c", benchC, s, true}} {
		p, err := Compile(bc.src, Options{Schema: bc.schema})
		if err != nil {
			b.Fatal(err)
		}
		if got, err := p.Eval(env); err != nil || got != bc.want {
			b.Fatalf("%s: Eval = %v, %v; want %v", bc.name, got, err, bc.want)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Eval(env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEvalParallel evaluates one shared Program from all Ps.
func BenchmarkEvalParallel(b *testing.B) {
	p, err := Compile(benchA, Options{})
	if err != nil {
		b.Fatal(err)
	}
	env := NewEnv(benchInput())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Eval(env); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBaseline is the hand-written expr-lang equivalent of (a) over the
// same record, with a reused VM: the floor eval(a) is measured against.
func BenchmarkBaseline(b *testing.B) {
	in := benchInput()
	env := make(map[string]any, len(in.After))
	for k, v := range in.After {
		env[strings.ReplaceAll(k, " ", "")] = v // the same record, with identifiers for names
	}
	prog, err := expr.Compile(`Status != "Closed" && Priority >= 2 && ShortDescription contains "router"`, expr.Env(env), expr.AsBool())
	if err != nil {
		b.Fatal(err)
	}
	var m vm.VM
	if out, err := m.Run(prog, env); err != nil || out != true {
		b.Fatalf("baseline = %v, %v", out, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Run(prog, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnv100 is the engine's hot path: one event prepared with NewEnv and
// evaluated against 100 rules of its form. Target: ≤ 20 µs per event.
func BenchmarkEnv100(b *testing.B) {
	s := ticketSchema(b)
	var progs []*Program
	for i := range 100 {
		var src string
		switch i % 5 {
		case 0:
			src = benchA
		case 1:
			src = benchB
		case 2:
			src = benchC
		case 3:
			src = fmt.Sprintf(`'TR.Status' = "Pending" AND 'Priority' > %d`, i%7)
		default:
			src = fmt.Sprintf(`'Create-date' < $TIMESTAMP$ - %d OR 'Submitter' = $USER$`, i*60)
		}
		p, err := Compile(src, Options{Schema: s})
		if err != nil {
			b.Fatal(err)
		}
		progs = append(progs, p)
	}
	in := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		env := NewEnv(in)
		for _, p := range progs {
			if _, err := p.Eval(env); err != nil {
				b.Fatal(err)
			}
		}
	}
}
