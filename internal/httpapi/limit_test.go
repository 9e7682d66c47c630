package httpapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The limiter admits a token's burst, then one request per 1/rate; no more
// than InFlight at once; and forgets callers whose buckets have refilled.
func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	lm := newLimiter(Limits{Rate: 2, Burst: 3, InFlight: 2})
	lm.now = func() time.Time { return now }

	ok, _, done1 := lm.admit(1)
	require.True(t, ok)
	ok, _, done2 := lm.admit(1)
	require.True(t, ok)
	ok, retry, _ := lm.admit(1)
	require.False(t, ok, "two in flight already")
	require.Equal(t, time.Second, retry)
	ok, _, done3 := lm.admit(7)
	require.True(t, ok, "another token is not held up")
	done3()
	done1()
	ok, _, done := lm.admit(1)
	require.True(t, ok, "the third of the burst")
	done()
	done2()
	ok, retry, _ = lm.admit(1)
	require.False(t, ok, "the burst is spent")
	require.Equal(t, 500*time.Millisecond, retry, "one token a half second")
	now = now.Add(500 * time.Millisecond)
	ok, _, done = lm.admit(1)
	require.True(t, ok)
	done()

	for id := range int64(sweepAfter) {
		_, _, done := lm.admit(100 + id)
		done()
	}
	now = now.Add(time.Hour)
	_, _, done = lm.admit(5)
	done()
	require.Len(t, lm.callers, 1, "idle, refilled callers are forgotten")
}
