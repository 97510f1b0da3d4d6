package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBreakerAndRateErrors: bad breaker blocks (top level and per callout) and
// rates are positioned load errors at the key that holds them.
func TestBreakerAndRateErrors(t *testing.T) {
	src := `version: 1
breaker: {failures: -1, cooldown: 2h}
forms:
  Ticket:
    fields:
      TicketID: {id: 1, type: integer}
callouts:
  - {name: A, url: "http://h/", format: json, breaker: {failures: 100001}}
  - {name: B, url: "http://h/", format: json, breaker: {cooldown: 500ms}}
  - {name: C, url: "http://h/", format: json, rate: 50/hour}
  - {name: D, url: "http://h/", format: json, rate: "0/s"}
  - {name: E, url: "http://h/", format: json, rate: fast}
  - {name: F, url: "http://h/", format: json, breaker: {failures: 3, extra: 1}}
  - {name: G, url: "http://h/", format: json, ordering: per_ticket}
`
	_, err := parseTest(t, src)
	want := []string{
		`2:21: breaker failures -1 is out of range (want 0 to turn the breaker off, or 1 to 100000)`,
		`2:35: breaker cooldown 2h0m0s is out of range (want 1s to 1h)`,
		`8:67: breaker failures 100001 is out of range (want 0 to turn the breaker off, or 1 to 100000)`,
		`9:67: breaker cooldown 500ms is out of range (want 1s to 1h)`,
		`10:53: rate "50/hour": unknown unit "hour" (want s or min)`,
		`11:53: rate "0/s": the count must be an integer from 1 to 1000000`,
		`12:53: rate "fast": want N/s or N/min, e.g. 50/s`,
		`13:70: unknown key "extra" in breaker`,
		`14:57: unknown ordering "per_ticket" (want per_entry)`,
	}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestBreakerFor(t *testing.T) {
	three, zero := 3, 0
	cfg := &Config{Breaker: &Breaker{Failures: &three}}
	for _, tt := range []struct {
		cfg  *Config
		c    *Callout
		want BreakerPolicy
	}{
		{nil, &Callout{}, BreakerPolicy{10, 30 * time.Second}},
		{cfg, &Callout{}, BreakerPolicy{3, 30 * time.Second}},
		{cfg, &Callout{Breaker: &Breaker{Cooldown: Duration(time.Minute)}}, BreakerPolicy{3, time.Minute}},
		{cfg, &Callout{Breaker: &Breaker{Failures: &zero}}, BreakerPolicy{0, 30 * time.Second}},
	} {
		if got := BreakerFor(tt.cfg, tt.c); got != tt.want {
			t.Errorf("BreakerFor(%+v) = %+v, want %+v", tt.c.Breaker, got, tt.want)
		}
	}
}

func TestEndpointAndRate(t *testing.T) {
	for in, want := range map[string]string{
		"https://API.example.com/x?y=1": "https://api.example.com:443",
		"http://example.com/a":          "http://example.com:80",
		"http://127.0.0.1:8080/hook":    "http://127.0.0.1:8080",
		"https://[::1]:9443/a":          "https://[::1]:9443",
		"::bad":                         "",
	} {
		if got := Endpoint(in); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[Rate][2]int64{"50/s": {50, int64(time.Second)}, " 7 / min ": {7, int64(time.Minute)}, "": {0, 0}} {
		n, per, err := in.Parse()
		if err != nil || int64(n) != want[0] || int64(per) != want[1] {
			t.Errorf("Rate(%q).Parse() = %d, %v, %v", in, n, per, err)
		}
	}
}
