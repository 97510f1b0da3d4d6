package callouts

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/rules"
)

// jsonFieldsBySet is jsonFields for an update as it was written before it read the
// changes without building sets: the changed fields as a set, then listed in form
// order (inFormOrder) or payload order. TestJSONFieldsMatchesSets compares the two.
func (r *renderer) jsonFieldsBySet() []string {
	changed := make(map[string]bool)
	if r.ev.Set != nil {
		for _, name := range r.ev.Set {
			changed[r.fieldName(name)] = true
		}
	} else {
		for k, a := range r.ev.After {
			if b, ok := r.ev.Before[k]; !ok || !sameValue(a, b) {
				if ok || a != nil {
					changed[k] = true
				}
			}
		}
		for k, b := range r.ev.Before {
			if _, ok := r.ev.After[k]; !ok && b != nil {
				changed[k] = true
			}
		}
	}
	if len(r.c.PayloadFields) > 0 {
		var out []string
		for _, p := range r.c.PayloadFields {
			name := r.fieldName(p)
			if changed[name] && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
		return out
	}
	return r.inFormOrder(changed)
}

// TestJSONFieldsMatchesSets renders the entry_details keys of random updates —
// fields of the form and others, NULL, missing, equal and changed values, with and
// without ev.Set and payload fields, with and without a schema — and compares them
// with the set-based way.
func TestJSONFieldsMatchesSets(t *testing.T) {
	cfg := testConfig(t)
	noSchema := &rules.Config{Domain: "DEV3.COM", Location: cfg.Location, Forms: []*rules.Form{{Name: "Ticket"}}}
	keys := []string{"TicketID", "TicketNumber", "Status", "CreateDate", "LastActivityDate", "RMM Alert ID",
		"Description", "Priority", "Score", "Urgent", "DueDate", "Attachment1", "Extra", "aaa", "Zed", "536870913"}
	values := []any{nil, "x", "y", int64(1), int64(2), 1.5, true, time.Date(2022, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2022, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)).In(time.UTC), &rules.Attachment{Name: "a.txt", Data: []byte("x")}}
	rng := rand.New(rand.NewPCG(14, 2026))
	fieldKeys := 12 // keys[:12] are the fields of the form
	record := func(onlyFields bool) rules.Record {
		rec := rules.Record{}
		for i, k := range keys {
			if onlyFields && i >= fieldKeys {
				break
			}
			if rng.IntN(3) > 0 {
				rec[k] = values[rng.IntN(len(values))]
			}
		}
		return rec
	}
	subset := func() []string {
		var out []string
		for _, k := range keys {
			if rng.IntN(4) == 0 {
				out = append(out, k)
			}
		}
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		if rng.IntN(4) == 0 && len(out) > 0 {
			out = append(out, out[0]) // a duplicate
		}
		return out
	}
	for i := range 5000 {
		// A third of the events hold fields of the form only, in Before, After or both.
		onlyFields := i%3 == 0
		ev := &rules.Event{Kind: rules.KindUpdate, Form: "Ticket", EntryID: "1", Before: record(onlyFields && i%2 == 0), After: record(onlyFields && i%4 != 1)}
		if rng.IntN(2) == 0 { // a partial After: Before-only keys
			for _, k := range keys[:rng.IntN(len(keys))] {
				if rng.IntN(2) == 0 {
					delete(ev.After, k)
				}
			}
		}
		if rng.IntN(4) == 0 {
			ev.Set = subset()
			if ev.Set == nil && rng.IntN(2) == 0 {
				ev.Set = []string{}
			}
		}
		c := jsonCallout()
		if rng.IntN(3) == 0 {
			c = jsonCallout(subset()...)
		}
		conf := cfg
		if i%5 == 0 {
			conf = noSchema
		}
		r := newRenderer(conf, c, ev)
		got, want := r.jsonFields(), r.jsonFieldsBySet()
		if !slices.Equal(got, want) || (got == nil) != (want == nil) && len(got) > 0 {
			t.Fatalf("event %d (set %q, payload %q): jsonFields %q, by sets %q\nbefore %v\nafter %v", i, ev.Set, c.PayloadFields, got, want, ev.Before, ev.After)
		}
		// appendEntries (which reads each field once for a plain update) writes
		// what appendEntry gives for the keys jsonFields lists.
		var wantBody []byte
		var wantAtts []namedAttachment
		for k, name := range got {
			wantBody, wantAtts = r.appendEntry(wantBody, k, name, r.rec[name], r.field(name), wantAtts)
		}
		gotBody, gotAtts := r.appendEntries(nil, nil)
		if string(gotBody) != string(wantBody) || !slices.Equal(gotAtts, wantAtts) {
			t.Fatalf("event %d (set %q, payload %q): entries\n%s\nwant\n%s", i, ev.Set, c.PayloadFields, gotBody, wantBody)
		}
	}
}
