package engine

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

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
		t.Errorf("invalid UTF-8: %q, %v", got.R, err)
	}
	for _, in := range []string{`{"r":[["x"]]}`, `{"r":[["x","f",3]]}`, `{"r":[[1,"f"]]}`, `nope`} {
		if _, err := decodeHistoryDoc([]byte(in)); err == nil {
			t.Errorf("decodeHistoryDoc(%s): no error", in)
		}
	}
}
