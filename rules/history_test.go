package rules

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHistoryKeep(t *testing.T) {
	tests := []struct {
		src  string
		want time.Duration
	}{
		{"", DefaultHistoryKeep},
		{"history: {}\n", DefaultHistoryKeep},
		{"history: {keep: 7d}\n", 7 * 24 * time.Hour},
		{"history: {keep: 36h}\n", 36 * time.Hour},
		{"history: {keep: 0}\n", 0},
		{"history: {keep: 0d}\n", 0},
	}
	for _, tc := range tests {
		c := mustParse(t, base+tc.src)
		if got := c.HistoryKeep(); got != tc.want {
			t.Errorf("%q: HistoryKeep() = %v, want %v", tc.src, got, tc.want)
		}
	}
	if got := (Retention(48 * time.Hour)).String(); got != "2d" {
		t.Errorf("Retention(48h) = %q, want 2d", got)
	}
	if got := (Retention(90 * time.Minute)).String(); got != "1h30m0s" {
		t.Errorf("Retention(90m) = %q, want 1h30m0s", got)
	}
}

func TestHistoryTelemetryErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"keep syntax", "history: {keep: 30 days}\n", []string{`11:17: invalid retention "30 days" (want days such as 30d, or a duration such as 720h)`}},
		{"keep days", "history: {keep: -3d}\n", []string{`11:17: invalid retention "-3d" (want a whole number of days from 0 to 36500, such as 30d, or a duration such as 720h)`}},
		{"keep negative", "history: {keep: -1h}\n", []string{`11:17: invalid retention "-1h": must not be negative`}},
		{"keep too short", "history:\n  keep: 10s\n", []string{`12:9: history keep 10s is shorter than a minute (want 0 to turn history off, or a period such as 30d)`}},
		{"history key", "history: {kep: 3d}\n", []string{`11:11: unknown key "kep" in history; did you mean "keep"?`}},
		{"endpoint empty", "telemetry: {otlp_endpoint: \"\"}\n", []string{`11:28: telemetry otlp_endpoint: url must not be empty`}},
		{"endpoint relative", "telemetry: {otlp_endpoint: collector:4318}\n", []string{`11:28: telemetry otlp_endpoint: ` + urlProblem("collector:4318")}},
		{"telemetry key", "telemetry: {endpoint: http://127.0.0.1:4318}\n", []string{`11:13: unknown key "endpoint" in telemetry`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTest(t, base+tc.src)
			if diff := cmp.Diff(tc.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
	c := mustParse(t, base+"telemetry: {otlp_endpoint: \"http://127.0.0.1:4318\", service_name: desk}\n")
	if c.Telemetry == nil || c.Telemetry.OTLPEndpoint != "http://127.0.0.1:4318" || c.Telemetry.ServiceName != "desk" {
		t.Errorf("telemetry = %+v", c.Telemetry)
	}
}

func TestRuleErrors(t *testing.T) {
	c := mustParse(t, base+`rules:
  - {name: div, form: Ticket, events: [update], condition: "1 / 'Priority' > 0", callouts: [C1]}
  - {name: ok, form: Ticket, events: [update], condition: "'Priority' = 0", callouts: [C1]}
`)
	out := c.Run(&Event{Kind: KindUpdate, Form: "Ticket", After: Record{"Priority": int64(0)}})
	errs := RuleErrors(out.Errors)
	if len(errs) != 1 || errs["div"] == nil {
		t.Fatalf("RuleErrors(%v) = %v, want one for div", out.Errors, errs)
	}
	if got := errs["div"].Error(); got != out.Errors.Error() || !errors.Is(out.Errors, errs["div"].Err) {
		t.Errorf("RuleError text %q, want the joined text %q", got, out.Errors.Error())
	}
	if n := len(c.RulesFor("Ticket", KindUpdate)); n != 2 {
		t.Errorf("RulesFor: %d rules, want 2", n)
	}
}
