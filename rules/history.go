package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultHistoryKeep is how long event history is kept when the configuration has
// no history block (or no keep in it).
const DefaultHistoryKeep = 30 * 24 * time.Hour

// History configures the event history (the top-level `history:` block): one
// record per handled event, kept in the outbox store, saying which rules held,
// which callouts fired (with their delivery IDs) or were skipped and why, what the
// rules set and whether the save was rejected.
type History struct {
	// Keep is how long a record is kept; 0 turns the history off (nothing is
	// recorded and the records already stored are purged). Unset means 30 days.
	Keep *Retention `yaml:"keep,omitempty" json:"keep,omitempty"`
}

// HistoryKeep returns how long event history is kept under cfg: the history
// block's keep, else DefaultHistoryKeep. 0 means history is off.
func (cfg *Config) HistoryKeep() time.Duration {
	if cfg == nil || cfg.History == nil || cfg.History.Keep == nil {
		return DefaultHistoryKeep
	}
	return time.Duration(*cfg.History.Keep)
}

// Retention is a retention period: a Go duration (720h, 90m) or a whole number of
// days (30d); 0 means none.
type Retention time.Duration

// Std returns r as a time.Duration.
func (r Retention) Std() time.Duration { return time.Duration(r) }

// String writes r as days when it is a whole number of them, else in Go duration syntax.
func (r Retention) String() string {
	d := time.Duration(r)
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// MarshalText writes r as String does.
func (r Retention) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses "30d", a Go duration such as "720h", or "0".
func (r *Retention) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > 100*365 {
			return fmt.Errorf("invalid retention %q (want a whole number of days from 0 to 36500, such as 30d, or a duration such as 720h)", s)
		}
		*r = Retention(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid retention %q (want days such as 30d, or a duration such as 720h)", s)
	}
	if d < 0 {
		return fmt.Errorf("invalid retention %q: must not be negative", s)
	}
	*r = Retention(d)
	return nil
}

// Telemetry configures OpenTelemetry tracing (the top-level `telemetry:` block).
// Without it, or with an empty otlp_endpoint, nothing is traced.
type Telemetry struct {
	// OTLPEndpoint is the OTLP/HTTP traces endpoint spans are exported to: a
	// collector's base URL (http://collector:4318, to which /v1/traces is added) or
	// the full traces URL.
	OTLPEndpoint string `yaml:"otlp_endpoint,omitempty" json:"otlp_endpoint,omitempty"`
	// ServiceName is the service.name resource attribute; empty means "ruleflow".
	ServiceName string `yaml:"service_name,omitempty" json:"service_name,omitempty"`
}

// checkHistory and checkTelemetry are the one judge of the history and telemetry
// blocks: the loader calls them, so `ruleflow check` and reload do too.
func (d *decoder) checkHistory(h *History) {
	if h == nil || h.Keep == nil {
		return
	}
	if k := time.Duration(*h.Keep); k > 0 && k < time.Minute {
		d.errAt(h, "keep", "history keep %v is shorter than a minute (want 0 to turn history off, or a period such as 30d)", k)
	}
}

func (d *decoder) checkTelemetry(t *Telemetry) {
	if t == nil {
		return
	}
	if t.OTLPEndpoint != "" || d.has(t, "otlp_endpoint") {
		if msg := urlProblem(t.OTLPEndpoint); msg != "" {
			d.errAt(t, "otlp_endpoint", "telemetry otlp_endpoint: %s", msg)
		}
	}
}

// RuleError is the error of one rule whose condition or set value could not be
// evaluated for an event (Outcome.Errors joins them).
type RuleError struct {
	Rule string
	Err  error
}

// Error returns `rule "NAME": reason`.
func (e *RuleError) Error() string { return "rule " + strconv.Quote(e.Rule) + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *RuleError) Unwrap() error { return e.Err }

// RuleErrors returns the *RuleError of each rule in err (Outcome.Errors), by rule
// name.
func RuleErrors(err error) map[string]*RuleError {
	if err == nil {
		return nil
	}
	out := map[string]*RuleError{}
	var walk func(error)
	walk = func(err error) {
		if re, ok := err.(*RuleError); ok {
			out[re.Rule] = re
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var re *RuleError
		if errors.As(err, &re) {
			out[re.Rule] = re
		}
	}
	walk(err)
	return out
}

// RulesFor returns the rules (configured, then webhooks) that an event of kind on
// form is run through, in execution order, active or not. The slice is the
// configuration's own: the caller must not change it.
func (c *Config) RulesFor(form string, kind Kind) []*Rule {
	if c.idx == nil {
		return nil
	}
	return c.idx.rules[formKind{form, kind}]
}
