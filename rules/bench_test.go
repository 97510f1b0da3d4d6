package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// genConfig returns a configuration with n rules on one form.
func genConfig(n int) []byte {
	var b strings.Builder
	b.WriteString(`version: 1
timezone: America/New_York
forms:
  Ticket:
    fields:
      TicketID: {id: 1, type: integer}
      TicketNumber: {id: 2, type: character}
      Status: {id: 7, type: selection, options: [New, In Progress, Waiting Customer, Complete]}
      Priority: {id: 8, type: selection, options: [Low, Medium, High, Critical]}
      QueueID: {id: 9, type: integer}
      Title: {id: 3, type: character}
      RMM Alert ID: {id: 536870913, type: character}
callouts:
`)
	for i := range 50 {
		fmt.Fprintf(&b, "  - {name: C%d, url: \"http://127.0.0.1:9%03d/x\", format: name-value, udf: RMM Alert ID}\n", i, i)
	}
	b.WriteString("rules:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: rule %d\n    form: Ticket\n    events: [update]\n", i)
		fmt.Fprintf(&b, "    condition: >-\n      'Status' = \"Complete\" AND 'TR.Status' != $NULL$ AND\n      ('QueueID' = %d OR 'Title' LIKE \"%%alert #%d\")\n", 29682833+i, i)
		fmt.Fprintf(&b, "    callouts: [C%d, C%d]\n", i%50, (i+1)%50)
	}
	return []byte(b.String())
}

// BenchmarkLoad10kRules loads a generated configuration of 10,000 rules
// (target: at most 1 s per load).
func BenchmarkLoad10kRules(b *testing.B) {
	src := genConfig(10000)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := parse("bench.yaml", src, testEnv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatch matches one update event against 100 rules of one form.
func BenchmarkMatch(b *testing.B) {
	c, err := parse("bench.yaml", genConfig(100), testEnv)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rec := func(status string) Record {
		return Record{"TicketID": int64(8176), "TicketNumber": "T20261122.0001", "Status": status, "Priority": "High",
			"QueueID": int64(29682833 + 42), "Title": "RMM alert #42", "RMM Alert ID": "A-42"}
	}
	ev := &Event{Kind: KindUpdate, Form: "Ticket", EntryID: "8176", User: "jsmith", Time: t0,
		Before: rec("In Progress"), After: rec("Complete")}
	ms, err := c.Match(ev)
	if err != nil || len(ms) != 1 {
		b.Fatalf("Match = %d matches, %v; want 1", len(ms), err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Match(ev); err != nil {
			b.Fatal(err)
		}
	}
}
