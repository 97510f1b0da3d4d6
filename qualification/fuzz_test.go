package qualification

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that every error is positioned
// inside the source, and that a parsed tree prints to a qualification that
// parses to the same tree. Seeds: testdata/fuzz/FuzzParse and the corpus.
func FuzzParse(f *testing.F) {
	for _, row := range readTSV(f, "testdata/corpus.tsv") {
		f.Add(row[0])
	}
	for _, src := range errorCases {
		f.Add(src)
	}
	addARSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		n, err := Parse(src)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse(%q) error is %T", src, err)
			}
			if e.Offset < 0 || e.Offset > len(src) || e.Line < 1 || e.Column < 1 {
				t.Fatalf("Parse(%q) error position out of range: %+v", src, e)
			}
			_ = e.Error()
			return
		}
		printed := n.String()
		n2, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q which does not parse: %v", src, printed, err)
		}
		if n2.String() != printed {
			t.Fatalf("round trip of %q: %q then %q", src, printed, n2.String())
		}
	})
}

// FuzzCompile compiles arbitrary input with and without a schema, in both
// NULL modes, and evaluates what compiles against a fixed event: nothing may
// panic, and failures must be *Error values.
func FuzzCompile(f *testing.F) {
	for _, row := range readTSV(f, "testdata/corpus.tsv") {
		f.Add(row[0])
	}
	for _, src := range errorCases {
		f.Add(src)
	}
	f.Add(`'Priority' / ('Priority' - 3) > 1`)
	f.Add(`'Create-date' - $TIMESTAMP$ < 'Priority' * 60 AND 'Start Time' < $TIME$`)
	f.Add(`'Status' LIKE "[^a-c]%" OR 'Urgency' < 'Status' OR 'Escalated' = "yes"`)
	addARSeeds(f)
	schema := ticketSchema(f)
	helpDesk := helpDeskSchema(f)
	arAfter, arHist := arRecord()
	after := map[string]any{
		"Status": "Pending", "Priority": int64(3), "Cost": 2.5, "Short Description": "router",
		"Create-date": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "Start Time": int64(3600),
		"Escalated": true, "Urgency": int64(2), "Submitter": "jsmith",
	}
	before := map[string]any{"Status": "New", "Priority": int64(0)}
	f.Fuzz(func(t *testing.T, src string) {
		for _, s := range []*Schema{nil, schema, helpDesk} {
			after, hist := after, map[string]StatusEntry(nil)
			if s == helpDesk || s == nil && strings.Contains(src, "EXTERNAL") {
				after, hist = arAfter, arHist
			}
			for _, mode := range []NullMode{Workflow, Search} {
				p, err := Compile(src, Options{Schema: s, Nulls: mode, CaseInsensitive: mode == Search})
				if err != nil {
					switch err.(type) {
					case *Error, ErrorList:
					default:
						t.Fatalf("Compile(%q) error is %T", src, err)
					}
					if strings.Contains(err.Error(), "internal error") {
						t.Fatalf("Compile(%q): %v", src, err)
					}
					continue
				}
				for _, op := range []string{"create", "update", "delete"} {
					env := NewEnv(&Input{Operation: op, Before: before, After: after, User: "jsmith", Now: testNow, StatusHistory: hist})
					if _, err := p.Eval(env); err != nil {
						if _, ok := err.(*Error); !ok {
							t.Fatalf("Eval(%q) error is %T: %v", src, err, err)
						}
						if strings.Contains(err.Error(), "evaluation failed") {
							t.Fatalf("Eval(%q): %v", src, err)
						}
					}
				}
			}
		}
	})
}

// addARSeeds adds the AR type corpus and error cases as seeds.
func addARSeeds(f *testing.F) {
	for _, row := range readTSV(f, "testdata/corpus_ar.tsv") {
		f.Add(row[0])
	}
	for _, src := range arErrorCases {
		f.Add(src)
	}
}
