// Package ratelimit is a per-key token bucket: each caller (an API key, or
// the client address for requests without one) may make Rate requests a
// second on average, in bursts of up to Burst.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config sets the bucket of every key.
type Config struct {
	// Rate is the sustained requests per second per key; 0 means DefaultRate,
	// and a negative rate disables limiting.
	Rate float64
	// Burst is the bucket size; 0 means twice the rate (at least 1).
	Burst int
}

// DefaultRate is the requests per second a key gets when none is configured.
const DefaultRate = 50

// idleAfter is how long an untouched bucket is kept; a refilled bucket is
// the same as a new one, so forgetting it changes nothing.
const idleAfter = 10 * time.Minute

// Limiter holds one bucket per key.
type Limiter struct {
	rate    rate.Limit
	burst   int
	off     bool
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limiter with cfg.
func New(cfg Config) *Limiter {
	r := cfg.Rate
	if r == 0 {
		r = DefaultRate
	}
	b := cfg.Burst
	if b <= 0 {
		b = max(1, int(math.Ceil(2*r)))
	}
	return &Limiter{rate: rate.Limit(r), burst: b, off: r < 0, buckets: map[string]*bucket{}}
}

// Allow takes a token for key at now. When the bucket is empty it returns
// false and how long until a token is available.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil || l.off {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleAfter {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idleAfter {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
