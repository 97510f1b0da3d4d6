package httpapi

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter allows n calls per period for each key (a target ID), as a token
// bucket that starts full and refills continuously. It reads time only from its
// callers, so tests drive it with a fake clock. Limiters idle for longer than two
// periods (full again, so forgetting them changes nothing) are dropped.
type rateLimiter struct {
	limit  rate.Limit
	burst  int
	period time.Duration

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newRateLimiter(n int, period time.Duration) *rateLimiter {
	return &rateLimiter{
		limit:   rate.Limit(float64(n) / period.Seconds()),
		burst:   n,
		period:  period,
		buckets: make(map[string]*bucket),
	}
}

// allow takes one call for key at now. When the bucket is empty it takes nothing
// and returns false with how long until a call would be allowed.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.period {
		for k, b := range l.buckets {
			if now.Sub(b.last) > 2*l.period {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, l.period
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// retryAfter is a delay as whole seconds for a Retry-After header, at least 1.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
