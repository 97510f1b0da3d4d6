package qualification

import (
	"fmt"
	"testing"
	"time"
)

// TestDirectMatchesVM evaluates every qualification of the corpora and error
// tables, for each schema, NULL mode and operation, against records of the
// right types, of wrong types and of NULLs, both directly and on the VM: the
// result and the error text must be the same.
func TestDirectMatchesVM(t *testing.T) {
	var srcs []string
	for _, path := range []string{"testdata/corpus.tsv", "testdata/corpus_ar.tsv"} {
		for _, row := range readTSV(t, path) {
			srcs = append(srcs, row[0])
		}
	}
	srcs = append(srcs, errorCases...)
	srcs = append(srcs, arErrorCases...)
	srcs = append(srcs,
		`'Status' = "Pending" AND ('Priority' > 2 OR NOT 'Cost' < 1.5)`,
		`'Short Description' LIKE "%rout%" AND 'Submitter' != $NULL$ AND 'TR.Status' = $NULL$`,
		`NOT ('Priority' = 3) OR 'DB.Status' = "New"`,
		`'Escalated' = "yes" AND 'Urgency' = "2-High"`,
		`'Create-date' < "2026-06-01" AND $USER$ = "jsmith"`,
	)
	arAfter, arHist := arRecord()
	good := map[string]any{
		"Status": "Pending", "Priority": int64(3), "Cost": 2.5, "Short Description": "router",
		"Create-date": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "Start Time": int64(3600),
		"Escalated": true, "Urgency": int64(2), "Submitter": "jsmith",
	}
	wrong := map[string]any{ // every value of another type than its field's
		"Status": int64(99), "Priority": "three", "Cost": "cheap", "Short Description": int64(7),
		"Create-date": "soon", "Start Time": "noon", "Escalated": "perhaps", "Urgency": "Sometimes", "Submitter": 1.5,
	}
	records := []map[string]any{good, wrong, {}, arAfter}
	before := map[string]any{"Status": "New", "Priority": int64(0)}
	direct, compared, failed := 0, 0, 0
	for _, src := range srcs {
		for _, s := range []*Schema{nil, ticketSchema(t), helpDeskSchema(t)} {
			for _, mode := range []NullMode{Workflow, Search} {
				p, err := Compile(src, Options{Schema: s, Nulls: mode, CaseInsensitive: mode == Search})
				if err != nil {
					continue
				}
				if p.direct != nil {
					direct++
				}
				for _, after := range records {
					for _, op := range []string{"create", "update", "delete"} {
						in := &Input{Operation: op, Before: before, After: after, User: "jsmith", Now: testNow, StatusHistory: arHist}
						ok, err := p.Eval(NewEnv(in))
						vmOK, vmErr := p.evalVM(NewEnv(in))
						if ok != vmOK || fmt.Sprint(err) != fmt.Sprint(vmErr) {
							t.Errorf("%s (schema %v, %v, %s, %v):\n direct %v, %v\n     vm %v, %v", src, s != nil, mode, op, after, ok, err, vmOK, vmErr)
						}
						compared++
						if p.direct != nil && vmErr != nil {
							failed++
						}
					}
				}
			}
		}
	}
	if direct < 100 || failed < 100 {
		t.Errorf("only %d programs are direct, %d of their evaluations fail", direct, failed)
	}
	t.Logf("%d direct programs, %d evaluations compared, %d failures of direct programs", direct, compared, failed)
}

// TestDirect checks which conditions are evaluated without the VM.
func TestDirect(t *testing.T) {
	s := ticketSchema(t)
	for _, tc := range []struct {
		src    string
		direct bool
	}{
		{`'Status' = "New"`, true},
		{`'Status' = "New" AND ('Priority' > 2 OR NOT 'Escalated' = "yes")`, true},
		{`'Short Description' LIKE "%a%" AND 'TR.Status' = $NULL$ AND 'DB.Priority' != 3`, true},
		{`1 = 1 OR 'Priority' = 1`, true},
		{`'Priority' + 1 > 3`, false},                     // arithmetic is computed on the VM
		{`'Priority' = 1 AND 'Cost' > 'Priority'`, false}, // two fields
	} {
		p, err := Compile(tc.src, Options{Schema: s})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.direct != nil; got != tc.direct {
			t.Errorf("%s: direct %v, want %v", tc.src, got, tc.direct)
		}
	}
}
