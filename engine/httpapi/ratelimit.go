package httpapi

import (
	"math"
	"sync"
	"time"
)

// rateLimiter allows at most n calls in any window of one period for each key (a
// target ID): a sliding window over the times of the calls it accepted. Unlike a
// token bucket that starts full, it never lets more than n through in a period,
// bursts included, and it can say exactly when the next call will be allowed. It
// reads time only from its callers, so tests drive it with a fake clock. Windows
// idle for a whole period (empty again, so forgetting them changes nothing) are
// dropped.
type rateLimiter struct {
	n      int
	period time.Duration

	mu        sync.Mutex
	windows   map[string]*window
	lastSweep time.Time
}

// window is a ring of the accept times of the last (at most n) calls of one key.
type window struct {
	times []time.Time // ring buffer, capacity n
	head  int         // index of the oldest time
	count int
	last  time.Time
}

func newRateLimiter(n int, period time.Duration) *rateLimiter {
	return &rateLimiter{n: max(n, 1), period: period, windows: make(map[string]*window)}
}

// allow takes one call for key at now. When n calls were accepted in the period
// before now it takes nothing and returns false with how long until the oldest of
// them leaves the window.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.period {
		for k, w := range l.windows {
			if now.Sub(w.last) >= l.period {
				delete(l.windows, k)
			}
		}
		l.lastSweep = now
	}
	w, ok := l.windows[key]
	if !ok {
		w = &window{times: make([]time.Time, l.n)}
		l.windows[key] = w
	}
	for w.count > 0 && now.Sub(w.times[w.head]) >= l.period {
		w.head = (w.head + 1) % l.n
		w.count--
	}
	if w.count == l.n {
		return false, w.times[w.head].Add(l.period).Sub(now)
	}
	w.times[(w.head+w.count)%l.n] = now
	w.count++
	w.last = now
	return true, 0
}

// retryAfter is a delay as whole seconds for a Retry-After header, at least 1.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
