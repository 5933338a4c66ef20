package vcdiff

import "testing"

// TestVarintLen checks varintLen against the encoding appendVarint writes,
// around every byte-count boundary.
func TestVarintLen(t *testing.T) {
	vals := []uint64{0, 1, 1<<64 - 1}
	for s := 7; s < 64; s += 7 {
		vals = append(vals, 1<<s-1, 1<<s, 1<<s+1)
	}
	for _, v := range vals {
		if got, want := varintLen(v), len(appendVarint(nil, v)); got != want {
			t.Errorf("varintLen(%#x) = %d, want %d", v, got, want)
		}
	}
}
