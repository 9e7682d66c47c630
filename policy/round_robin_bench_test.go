package policy

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkAssignmentMethods compares Baton's round robin with the source's
// timestamp modulus over 7 users: ns per pick, and the spread (max - min
// assignments per user) after b.N picks made as claims arrive in a burst (the same
// millisecond for a whole batch of 10), which is where timestamp modulus piles
// work on one person.
func BenchmarkAssignmentMethods(b *testing.B) {
	dir := make([]User, 7)
	for i := range dir {
		dir[i] = User{ID: fmt.Sprintf("u%d", i), Active: true}
	}
	b.Run("round_robin", func(b *testing.B) {
		counts := map[string]int{}
		var s turns
		for i := 0; i < b.N; i++ {
			u, _ := s.pick(dir, false)
			counts[u.ID]++
		}
		b.ReportMetric(float64(spread(counts, dir)), "spread")
	})
	b.Run("timestamp_modulus", func(b *testing.B) {
		counts := map[string]int{}
		base := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC).UnixMilli()
		for i := 0; i < b.N; i++ {
			u, _ := TimestampModulus(dir, base+int64(i/10))
			counts[u.ID]++
		}
		b.ReportMetric(float64(spread(counts, dir)), "spread")
	})
}
