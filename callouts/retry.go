package callouts

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/rules"
)

// The retry defaults (Autotask seed: "resend the callout every 60 seconds for up to
// 10 times").
const (
	DefaultInterval    = 60 * time.Second
	DefaultMaxRetries  = 10
	DefaultMaxInterval = time.Hour
	MinInterval        = time.Second
)

// Policy decides when a failed delivery is attempted again.
//
// Fixed (the default) retries every Interval. Exponential waits Interval·2^(n-1)
// after the n-th failed attempt, capped at MaxInterval, with "equal jitter": half the
// delay is fixed and half is random, so the wait is never below half the nominal
// delay. A Retry-After sent with 429 or 503 is honoured: the next attempt is never
// earlier than it asks (capped at MaxRetryAfter).
type Policy struct {
	Interval    time.Duration // delay between attempts (fixed) or the first delay (exponential); ≥ 1 s
	Max         int           // attempts after the first
	Exponential bool
	MaxInterval time.Duration // upper bound of an exponential delay
}

// PolicyFor returns the policy of a callout's retry settings, with the defaults
// filled in: interval 60 s (at least 1 s), 10 retries, exponential cap 1 h.
func PolicyFor(r rules.Retry) Policy {
	p := Policy{
		Interval:    r.Interval.Std(),
		Max:         DefaultMaxRetries,
		Exponential: strings.EqualFold(r.Backoff, "exponential"),
		MaxInterval: r.MaxInterval.Std(),
	}
	if p.Interval == 0 {
		p.Interval = DefaultInterval
	}
	if p.Interval < MinInterval {
		p.Interval = MinInterval
	}
	if r.Max != nil {
		p.Max = max(*r.Max, 0)
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = DefaultMaxInterval
	}
	if p.MaxInterval < p.Interval {
		p.MaxInterval = p.Interval
	}
	return p
}

// Attempts returns the most attempts a delivery gets: the first plus Max retries.
func (p Policy) Attempts() int { return 1 + max(p.Max, 0) }

// Next returns when attempt number attempts+1 should run after a failure at now, or
// ok=false when retries are exhausted. attempts counts the attempts made so far, the
// first included: retries are exhausted when attempts >= 1+Max. jitter returns a
// value in [0, 1); nil means no jitter (the upper end of the range).
func (p Policy) Next(attempts int, now time.Time, res Result, jitter func() float64) (time.Time, bool) {
	if attempts >= p.Attempts() {
		return time.Time{}, false
	}
	interval := max(p.Interval, MinInterval)
	delay := interval
	if p.Exponential {
		limit := max(p.MaxInterval, interval)
		delay = interval
		for i := 1; i < attempts && delay < limit && delay <= math.MaxInt64/2; i++ {
			delay *= 2
		}
		delay = min(delay, limit)
		if jitter != nil {
			j := jitter()
			if !(j >= 0 && j < 1) { // also catches NaN
				j = 0
			}
			half := delay / 2
			delay = half + time.Duration(j*float64(delay-half))
		}
		delay = max(delay, MinInterval)
	}
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
		delay = max(delay, min(res.RetryAfter, MaxRetryAfter))
	}
	return now.Add(delay), true
}
