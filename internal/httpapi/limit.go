package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limits bound what one API token may ask of the server: Rate requests a
// second on average, Burst at once after a pause, and InFlight answered at the
// same time. Past any of them the answer is 429 rate_limited with Retry-After,
// and nothing is done. A person at the queue page sends a few a second; a
// script that loops gets its share and no more, so no one caller can keep
// Temporal's visibility store or PostgreSQL busy for everyone else.
type Limits struct {
	Rate     float64 // requests per second, per token
	Burst    int     // requests at once after a pause
	InFlight int     // requests answered at the same time
}

// DefaultLimits are the limits `starter serve` applies unless configured
// (api_rate, api_burst, api_in_flight).
var DefaultLimits = Limits{Rate: 20, Burst: 100, InFlight: 8}

// WithLimits sets the per-token limits (DefaultLimits otherwise).
func WithLimits(l Limits) Option { return func(s *Server) { s.limits = newLimiter(l) } }

// limiter keeps a token bucket and an in-flight count per API token. Buckets
// that are full and idle are dropped as the map grows, so its size follows
// the callers of the last minute, not every token ever seen.
type limiter struct {
	l   Limits
	now func() time.Time

	mu      sync.Mutex
	callers map[int64]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
	busy   int
}

func newLimiter(l Limits) *limiter {
	return &limiter{l: l, now: time.Now, callers: map[int64]*bucket{}}
}

// sweepAfter is how many callers the map holds before idle ones are dropped.
const sweepAfter = 1000

// admit takes one request of caller's. It reports whether the request may go
// on, and when not, how long until it could; done must be called when an
// admitted request is answered.
func (lm *limiter) admit(caller int64) (ok bool, retry time.Duration, done func()) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	now := lm.now()
	if len(lm.callers) >= sweepAfter && now.Sub(lm.swept) > time.Second {
		lm.sweep(now)
	}
	b := lm.callers[caller]
	if b == nil {
		b = &bucket{tokens: float64(lm.l.Burst), at: now}
		lm.callers[caller] = b
	}
	b.tokens = min(float64(lm.l.Burst), b.tokens+now.Sub(b.at).Seconds()*lm.l.Rate)
	b.at = now
	if b.busy >= lm.l.InFlight {
		return false, time.Second, nil
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / lm.l.Rate * float64(time.Second)), nil
	}
	b.tokens--
	b.busy++
	return true, 0, func() {
		lm.mu.Lock()
		b.busy--
		lm.mu.Unlock()
	}
}

// sweep drops callers with nothing in flight whose bucket has refilled.
func (lm *limiter) sweep(now time.Time) {
	lm.swept = now
	for id, b := range lm.callers {
		if b.busy == 0 && b.tokens+now.Sub(b.at).Seconds()*lm.l.Rate >= float64(lm.l.Burst) {
			delete(lm.callers, id)
		}
	}
}

// limit answers 429 rate_limited, with Retry-After in whole seconds, to a
// token past its limits; it runs after authentication, per token.
func (s *Server) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := CallerFrom(r.Context())
		ok, retry, done := s.limits.admit(c.TokenID)
		if !ok {
			secs := max(1, int(math.Ceil(retry.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf(
				"%q: too many requests with this token (at most %g a second, %d at once); try again in %d s",
				c.User.ID, s.limits.l.Rate, s.limits.l.InFlight, secs))
			return
		}
		defer done()
		next.ServeHTTP(w, r)
	})
}
