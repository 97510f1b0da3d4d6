package callouts

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ruleflow/ruleflow/rules"
)

func intp(n int) *int { return &n }

func TestPolicyFor(t *testing.T) {
	tests := []struct {
		name  string
		input rules.Retry
		want  Policy
	}{
		{"defaults", rules.Retry{}, Policy{Interval: 60 * time.Second, Max: 10, MaxInterval: time.Hour}},
		{"fixed", rules.Retry{Interval: rules.Duration(30 * time.Second), Max: intp(5), Backoff: rules.BackoffFixed}, Policy{Interval: 30 * time.Second, Max: 5, MaxInterval: time.Hour}},
		{"no retries", rules.Retry{Max: intp(0)}, Policy{Interval: 60 * time.Second, Max: 0, MaxInterval: time.Hour}},
		{"negative max", rules.Retry{Max: intp(-3)}, Policy{Interval: 60 * time.Second, Max: 0, MaxInterval: time.Hour}},
		{"sub-second interval raised to 1s", rules.Retry{Interval: rules.Duration(10 * time.Millisecond)}, Policy{Interval: time.Second, Max: 10, MaxInterval: time.Hour}},
		{"exponential", rules.Retry{Interval: rules.Duration(5 * time.Second), Backoff: rules.BackoffExponential, MaxInterval: rules.Duration(10 * time.Minute)},
			Policy{Interval: 5 * time.Second, Max: 10, Exponential: true, MaxInterval: 10 * time.Minute}},
		{"unknown backoff is fixed (Parse refuses it)", rules.Retry{Backoff: "Exponential"}, Policy{Interval: 60 * time.Second, Max: 10, MaxInterval: time.Hour}},
		{"cap below interval", rules.Retry{Interval: rules.Duration(time.Minute), Backoff: rules.BackoffExponential, MaxInterval: rules.Duration(time.Second)},
			Policy{Interval: time.Minute, Max: 10, Exponential: true, MaxInterval: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, PolicyFor(tt.input)); diff != "" {
				t.Errorf("PolicyFor (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyNext(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	fixed := PolicyFor(rules.Retry{})
	exp := PolicyFor(rules.Retry{Interval: rules.Duration(5 * time.Second), Backoff: rules.BackoffExponential, MaxInterval: rules.Duration(time.Minute)})
	fail500 := Result{StatusCode: 500}
	zero := func() float64 { return 0 }
	half := func() float64 { return 0.5 }
	bad := func() float64 { return 7 }
	tests := []struct {
		name     string
		p        Policy
		attempts int
		res      Result
		jitter   func() float64
		want     time.Duration // delay after now
		wantOK   bool
	}{
		{"fixed first retry", fixed, 1, fail500, nil, 60 * time.Second, true},
		{"fixed tenth retry", fixed, 10, fail500, nil, 60 * time.Second, true},
		{"fixed exhausted after 1+10 attempts", fixed, 11, fail500, nil, 0, false},
		{"fixed ignores jitter", fixed, 3, fail500, half, 60 * time.Second, true},
		{"no retries", Policy{Interval: time.Minute, Max: 0}, 1, fail500, nil, 0, false},
		{"exponential 1", exp, 1, fail500, nil, 5 * time.Second, true},
		{"exponential 2", exp, 2, fail500, nil, 10 * time.Second, true},
		{"exponential 4", exp, 4, fail500, nil, 40 * time.Second, true},
		{"exponential capped", exp, 8, fail500, nil, time.Minute, true},
		{"equal jitter low end", exp, 3, fail500, zero, 10 * time.Second, true},
		{"equal jitter middle", exp, 3, fail500, half, 15 * time.Second, true},
		{"jitter out of range ignored", exp, 3, fail500, bad, 10 * time.Second, true},
		{"jitter keeps 1s floor", Policy{Interval: time.Second, Max: 3, Exponential: true, MaxInterval: time.Hour}, 1, fail500, zero, time.Second, true},
		{"retry-after on 429 wins", fixed, 1, Result{StatusCode: 429, RetryAfter: 5 * time.Minute}, nil, 5 * time.Minute, true},
		{"retry-after on 503 shorter than interval", fixed, 1, Result{StatusCode: 503, RetryAfter: 10 * time.Second}, nil, 60 * time.Second, true},
		{"retry-after capped", fixed, 1, Result{StatusCode: 503, RetryAfter: 48 * time.Hour}, nil, time.Hour, true},
		{"retry-after ignored on 500", fixed, 1, Result{StatusCode: 500, RetryAfter: 5 * time.Minute}, nil, 60 * time.Second, true},
		{"retry-after does not extend retries", fixed, 11, Result{StatusCode: 429, RetryAfter: time.Second}, nil, 0, false},
		{"huge attempt count does not overflow", Policy{Interval: time.Second, Max: 1 << 30, Exponential: true, MaxInterval: 200 * 365 * 24 * time.Hour}, 1000, fail500, nil, 200 * 365 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, ok := tt.p.Next(tt.attempts, now, tt.res, tt.jitter)
			if ok != tt.wantOK {
				t.Fatalf("Next ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if !at.IsZero() {
					t.Fatalf("exhausted Next returned %v", at)
				}
				return
			}
			if got := at.Sub(now); got != tt.want {
				t.Fatalf("Next delay = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPolicyScheduleSeed replays the Autotask seed's rule: after the first failure
// the callout is resent every 60 seconds, up to 10 times.
func TestPolicyScheduleSeed(t *testing.T) {
	p := PolicyFor(rules.Retry{})
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var schedule []time.Duration
	start := at
	for attempts := 1; ; attempts++ {
		next, ok := p.Next(attempts, at, Result{StatusCode: 500}, nil)
		if !ok {
			break
		}
		at = next
		schedule = append(schedule, at.Sub(start))
	}
	if len(schedule) != 10 || schedule[0] != time.Minute || schedule[9] != 10*time.Minute {
		t.Fatalf("schedule = %v, want 10 retries a minute apart", schedule)
	}
}
