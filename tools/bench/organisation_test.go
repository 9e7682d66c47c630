package bench

import "testing"

func TestShareShortfall(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name            string
		counts          map[string]int
		eligible, total int
		want            int
	}{
		{"exactly even", map[string]int{"a": 2, "b": 2, "c": 2}, 3, 6, 0},
		{"one more for some", map[string]int{"a": 3, "b": 2, "c": 2}, 3, 7, 0},
		{"a skipped turn", map[string]int{"a": 3, "b": 1, "c": 2}, 3, 6, 2}, // b one short, a one over
		{"fewer decisions than people", map[string]int{"a": 1, "b": 1}, 10, 2, 0},
		{"someone twice before everyone once", map[string]int{"a": 2}, 10, 2, 1},
		{"nobody served yet", map[string]int{}, 3, 0, 0},
		{"people with nothing", map[string]int{"a": 2}, 2, 4, 2}, // b absent: two short
	}
	for _, tc := range cases {
		if got := ShareShortfall(tc.counts, tc.eligible, tc.total); got != tc.want {
			t.Errorf("%s: ShareShortfall = %d, want %d", tc.name, got, tc.want)
		}
	}
}
