package rules

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// This file holds the delivery limits of a callout: its circuit breaker (per
// endpoint) and its rate limit. judgeCallout judges them with everything else of a
// callout, through breakerProblems; the top-level breaker block, the defaults every
// callout inherits, is judged by checkSettings through the same function.

// The circuit-breaker defaults.
const (
	// DefaultBreakerFailures is how many consecutive failed attempts to one
	// endpoint open its breaker.
	DefaultBreakerFailures = 10
	// DefaultBreakerCooldown is the first cool-down of an open breaker; each
	// failed probe doubles it, up to MaxBreakerCooldown.
	DefaultBreakerCooldown = 30 * time.Second
	// MaxBreakerCooldown caps the cool-down.
	MaxBreakerCooldown = time.Hour
	// MinBreakerCooldown is the shortest cool-down a configuration may set.
	MinBreakerCooldown = time.Second
	// MaxBreakerFailures is the largest failures threshold a configuration may set.
	MaxBreakerFailures = 100000
)

// Breaker configures the circuit breaker of a callout's endpoint, or (at the top
// level) of every callout that sets none.
type Breaker struct {
	// Failures is how many consecutive failed attempts open the breaker; 0 turns
	// the breaker off. Unset means the top-level value, else 10.
	Failures *int `yaml:"failures,omitempty" json:"failures,omitempty"`
	// Cooldown is the first pause once the breaker opens; it doubles after each
	// failed probe, up to 1 h. Zero means the top-level value, else 30s.
	Cooldown Duration `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
}

// BreakerPolicy is the breaker in force for one callout, defaults applied.
type BreakerPolicy struct {
	Failures int           // 0: no breaker
	Cooldown time.Duration // the first cool-down
}

// BreakerFor returns the breaker in force for c under cfg: the callout's own
// breaker block, then the configuration's top-level one, then the defaults, key by
// key. cfg may be nil.
func BreakerFor(cfg *Config, c *Callout) BreakerPolicy {
	p := BreakerPolicy{Failures: DefaultBreakerFailures, Cooldown: DefaultBreakerCooldown}
	apply := func(b *Breaker) {
		if b == nil {
			return
		}
		if b.Failures != nil {
			p.Failures = *b.Failures
		}
		if b.Cooldown > 0 {
			p.Cooldown = b.Cooldown.Std()
		}
	}
	if cfg != nil {
		apply(cfg.Breaker)
	}
	if c != nil {
		apply(c.Breaker)
	}
	return p
}

// Rate is a callout's rate limit: "N/s" or "N/min" (also "N/second",
// "N/minute"), shared by every node of a store. Empty means no limit.
type Rate string

// MaxRate is the largest N a rate may give.
const MaxRate = 1000000

// Parse returns the number of requests a rate allows per window and the window (a
// second or a minute). An empty rate gives 0, 0 and no error.
func (r Rate) Parse() (n int, per time.Duration, err error) {
	if r == "" {
		return 0, 0, nil
	}
	num, unit, ok := strings.Cut(strings.TrimSpace(string(r)), "/")
	if !ok {
		return 0, 0, fmt.Errorf("rate %q: want N/s or N/min, e.g. 50/s", string(r))
	}
	n, err = strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 1 || n > MaxRate {
		return 0, 0, fmt.Errorf("rate %q: the count must be an integer from 1 to %d", string(r), MaxRate)
	}
	switch strings.TrimSpace(unit) {
	case "s", "sec", "second":
		per = time.Second
	case "min", "minute":
		per = time.Minute
	default:
		return 0, 0, fmt.Errorf("rate %q: unknown unit %q (want s or min)", string(r), unit)
	}
	return n, per, nil
}

// Endpoint returns what a callout's circuit breaker is kept for: the scheme, host
// and port of its URL ("https://api.example.com:443"), the host lower-cased and
// the port made explicit, so callouts to one server share one breaker whatever
// their paths. It returns "" for a URL that does not parse.
func Endpoint(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		default:
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// breakerProblems judges a breaker block; prefix is "breaker." for a callout's.
func breakerProblems(b *Breaker, prefix string) []problem {
	if b == nil {
		return nil
	}
	var out []problem
	if b.Failures != nil && (*b.Failures < 0 || *b.Failures > MaxBreakerFailures) {
		out = append(out, problem{prefix + "failures", fmt.Sprintf("breaker failures %d is out of range (want 0 to turn the breaker off, or 1 to %d)", *b.Failures, MaxBreakerFailures)})
	}
	if b.Cooldown != 0 && (b.Cooldown.Std() < MinBreakerCooldown || b.Cooldown.Std() > MaxBreakerCooldown) {
		out = append(out, problem{prefix + "cooldown", fmt.Sprintf("breaker cooldown %s is out of range (want 1s to 1h)", b.Cooldown)})
	}
	return out
}

// Ordering is how a callout orders its deliveries: "" (none: each is sent as soon
// as it is due) or OrderingPerEntry.
type Ordering string

// OrderingPerEntry delivers a callout's deliveries for one record (form and entry
// ID) in the order they were handled: a later one waits until the earlier one is
// delivered or has finally failed.
const OrderingPerEntry Ordering = "per_entry"

// limitProblems judges a callout's breaker block, rate and ordering.
func limitProblems(c *Callout) []problem {
	out := breakerProblems(c.Breaker, "breaker.")
	if _, _, err := c.Rate.Parse(); err != nil {
		out = append(out, problem{"rate", err.Error()})
	}
	if c.Ordering != "" && c.Ordering != OrderingPerEntry {
		out = append(out, problem{"ordering", fmt.Sprintf("unknown ordering %q (want per_entry)", string(c.Ordering))})
	}
	return out
}

// positionLimits makes the nodes of a callout's breaker keys findable under the
// callout's own paths ("breaker.failures"), so the judge's problems are reported
// at the key that holds them.
func (d *decoder) positionLimits(c *Callout) {
	if c.Breaker == nil {
		return
	}
	for _, key := range []string{"failures", "cooldown"} {
		if n, ok := d.nodes[nodeKey{c.Breaker, key}]; ok {
			d.nodes[nodeKey{c, "breaker." + key}] = n
		}
	}
}

// checkBreaker judges the top-level breaker block.
func (d *decoder) checkBreaker(b *Breaker) {
	for _, p := range breakerProblems(b, "") {
		d.errAt(b, p.path, "%s", p.msg)
	}
}
