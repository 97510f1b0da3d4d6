package callouts

import (
	"math"
	"net/http"
	"time"

	"github.com/ruleflow/ruleflow/rules"
)

// Policy decides when a failed job is attempted again: a callout's delivery
// (PolicyFor its retry block) or a notification e-mail or note (the engine's fixed
// exponential policy). It is stored with each delivery, so a reload does not change
// the schedule of deliveries already enqueued. The defaults are rules'
// DefaultRetry* constants.
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
		Max:         rules.DefaultRetryMax,
		Exponential: r.Backoff == rules.BackoffExponential,
		MaxInterval: r.MaxInterval.Std(),
	}
	if p.Interval == 0 {
		p.Interval = rules.DefaultRetryInterval
	}
	p.Interval = max(p.Interval, rules.MinRetryInterval)
	if r.Max != nil {
		p.Max = max(*r.Max, 0)
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = rules.DefaultRetryMaxInterval
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
	interval := max(p.Interval, rules.MinRetryInterval)
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
		delay = max(delay, rules.MinRetryInterval)
	}
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
		delay = max(delay, min(res.RetryAfter, MaxRetryAfter))
	}
	return now.Add(delay), true
}
