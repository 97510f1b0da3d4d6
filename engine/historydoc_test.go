package engine

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// TestHistoryDocRoundTrip: the hand-written stored form is valid JSON and reads
// back as written, whatever the names and texts hold.
func TestHistoryDocRoundTrip(t *testing.T) {
	odd := []string{"plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "nul\x00bell\x07", "ünïcödé ✓ \u2028", "<html>&amp;", ""}
	var d historyDoc
	for i, n := range odd {
		d.R = append(d.R, docRule{N: n, O: "f", C: []string{odd[(i+1)%len(odd)], "shared"}})
		d.C = append(d.C, docCallout{N: n, R: n, D: "dlv_" + n, S: n})
	}
	for i := range 40 { // enough callouts for the dictionary to switch to a map
		d.R = append(d.R, docRule{N: "r" + string(rune('A'+i)), O: "i", C: []string{"c" + string(rune('A'+i)), "shared"}})
	}
	d.R = append(d.R, docRule{N: "div", O: "e", E: "division by \"zero\"", C: []string{"shared"}}, docRule{N: "held", O: "t"})
	d.S = json.RawMessage(`{"Title":"x"}`)
	d.X = &rules.Rejection{Rule: "r", Message: "no \"way\""}
	d.L = []rules.Limit{{Rule: "l", Reason: "loop"}}
	d.B = true
	b, err := d.appendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("not valid JSON: %s", b)
	}
	got, err := decodeHistoryDoc(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	bad := string([]byte{'a', 0xff, 'b'})
	b, _ = (&historyDoc{R: []docRule{{N: bad, O: "t"}}}).appendJSON(nil)
	if got, err := decodeHistoryDoc(b); err != nil || got.R[0].N != "a\uFFFDb" {
		t.Errorf("invalid UTF-8: %+v, %v", got.R, err)
	}
	for _, in := range []string{`{"r":[["x"]]}`, `{"r":[["x","f",3]]}`, `{"r":[[1,"f"]]}`, `nope`} {
		if _, err := decodeHistoryDoc([]byte(in)); err == nil {
			t.Errorf("decodeHistoryDoc(%s): no error", in)
		}
	}
}

// TestHistoryDocRelative: a record relative to a rule list names rules by index
// and expands to the list with its overrides; a rejected one keeps only those.
func TestHistoryDocRelative(t *testing.T) {
	list := historyDoc{R: []docRule{{N: "a", O: "f", C: []string{"X"}}, {N: "b", O: "i", C: []string{"Y"}}, {N: "c", O: "f"}, {N: "d", O: "f", C: []string{"X", "Y"}}}}
	lb, _ := list.appendJSON(nil)
	rec := historyDoc{D: true, R: []docRule{{I: 2, O: "t"}, {I: 3, O: "e", E: "boom"}}, C: []docCallout{{N: "Z", R: "c", D: "dlv_1"}}}
	rb, _ := rec.appendJSON(nil)
	if !json.Valid(rb) {
		t.Fatalf("not JSON: %s", rb)
	}
	h, err := DecodeHistory(store.HistoryRecord{ID: "evt_1", Doc: rb, RulesID: "rl_x", Rules: lb})
	if err != nil {
		t.Fatal(err)
	}
	want := []HistoryRule{{Name: "a", Outcome: "false"}, {Name: "b", Outcome: "false", Reason: "inactive"}, {Name: "c", Outcome: "true"}, {Name: "d", Outcome: "error", Error: "boom"}}
	if diff := cmp.Diff(want, h.Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	wantC := []HistoryCallout{
		{Name: "X", Rule: "a", Skipped: true, Reason: "rule false"},
		{Name: "Y", Rule: "b", Skipped: true, Reason: "rule inactive"},
		{Name: "Z", Rule: "c", DeliveryID: "dlv_1"},
		{Name: "X", Rule: "d", Skipped: true, Reason: "rule error"},
		{Name: "Y", Rule: "d", Skipped: true, Reason: "rule error"},
	}
	if diff := cmp.Diff(wantC, h.Callouts); diff != "" {
		t.Errorf("callouts (-want +got):\n%s", diff)
	}
	rec.X = &rules.Rejection{Rule: "c", Message: "no"}
	rb, _ = rec.appendJSON(nil)
	h, err = DecodeHistory(store.HistoryRecord{ID: "evt_2", Doc: rb, RulesID: "rl_x", Rules: lb})
	if err != nil || len(h.Rules) != 2 || h.Rules[0].Name != "c" || h.Rules[1].Name != "d" {
		t.Errorf("rejected: %+v, %v", h.Rules, err)
	}
	if _, err := DecodeHistory(store.HistoryRecord{ID: "evt_3", Doc: rb, RulesID: "rl_gone"}); err == nil || err.Error() != `engine: history evt_3: rule list "rl_gone" is missing` {
		t.Errorf("missing list: %v", err)
	}
	bad := historyDoc{D: true, R: []docRule{{I: 9, O: "t"}}}
	bb, _ := bad.appendJSON(nil)
	if _, err := DecodeHistory(store.HistoryRecord{ID: "evt_4", Doc: bb, RulesID: "rl_x", Rules: lb}); err == nil {
		t.Error("index beyond the list: no error")
	}
}
