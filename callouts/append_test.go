package callouts

import (
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/rules"
)

// TestAppendDateTime: appendDateTime writes what Format(DateTimeLayout) writes, for
// random instants in zones with whole-hour, half-hour, negative and second-level
// (local mean time) offsets, around the year boundaries where it hands over to
// Format.
func TestAppendDateTime(t *testing.T) {
	var zones []*time.Location
	for _, name := range []string{"UTC", "America/New_York", "Asia/Kolkata", "Australia/Eucla", "America/St_Johns", "Pacific/Kiritimati"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatalf("zone %s: %v", name, err)
		}
		zones = append(zones, loc)
	}
	zones = append(zones, time.FixedZone("LMT", -(4*3600+56*60+2)), time.FixedZone("small", -30), time.FixedZone("plus", 5*3600+59))
	rng := rand.New(rand.NewPCG(14, 5))
	check := func(tm time.Time) {
		t.Helper()
		want := tm.Format(DateTimeLayout)
		if got := string(appendDateTime([]byte("x"), tm)); got != "x"+want {
			t.Fatalf("%v: got %q, want %q", tm, got[1:], want)
		}
	}
	edges := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1883, 11, 18, 12, 3, 57, 0, time.UTC), {},
	}
	for _, loc := range zones {
		for _, e := range edges {
			check(e.In(loc))
		}
		for range 2000 {
			sec := rng.Int64N(400*365*86400) - 200*365*86400 + time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
			check(time.Unix(sec, rng.Int64N(1e9)).In(loc))
		}
	}
}

// TestAppendFormEscaped: appendFormEscaped is url.QueryEscape with ':' kept, for
// every byte alone and for random strings.
func TestAppendFormEscaped(t *testing.T) {
	want := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%3A", ":") }
	for c := range 256 {
		s := "a" + string([]byte{byte(c)}) + "b"
		if got := string(appendFormEscaped([]byte("x"), s)); got != "x"+want(s) {
			t.Fatalf("byte %#x: got %q, want %q", c, got[1:], want(s))
		}
	}
	rng := rand.New(rand.NewPCG(14, 6))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(2) == 0 {
				b[i] = "aZ9-_.~: &=%+/"[rng.IntN(14)]
			}
		}
		if got := string(appendFormEscaped(nil, string(b))); got != want(string(b)) {
			t.Fatalf("%q: got %q, want %q", b, got, want(string(b)))
		}
	}
}

// TestStandardNamesPlain: the names of the standard data, which appendNameValue
// writes without escaping, are kept as they are by the form escape.
func TestStandardNamesPlain(t *testing.T) {
	cf := rules.CalloutFields{}
	names := []string{StdDomain, StdUDF}
	for _, e := range cf.Entries() {
		names = append(names, e.Key)
	}
	for _, n := range []string{StdID, StdNumber, StdStatus, StdCreatedDatetime, StdLastActivityDatetime} {
		if !slices.Contains(names, n) {
			t.Errorf("%s is not among the callout_fields entries", n)
		}
	}
	for _, n := range names {
		if got := string(appendFormEscaped(nil, n)); got != n {
			t.Errorf("%q escapes to %q", n, got)
		}
	}
}
