package vcdiff

import "testing"

// TestProbeWorth: probes inside short matches run while they pay often
// enough; once probeWarmup have run with under probeRate % paying, only one
// in probeSample runs, and a kind that pays keeps probing.
func TestProbeWorth(t *testing.T) {
	m := &matcher{p: &levelTable[DefaultLevel]}
	if m.p.probeRate == 0 {
		t.Fatal("the default level has no probe budget: the test tests nothing")
	}
	run := func(kind uint8, n int, pay func(i int) bool) int {
		ran := 0
		for i := range n {
			if m.probeWorth(kind) {
				ran++
				if pay(i) {
					m.probeFound[kind]++
				}
			}
		}
		return ran
	}
	// Source-COPY probes never pay: all of the warm-up runs, then one in
	// probeSample.
	if got, want := run(kindSrc, probeWarmup+16*probeSample, func(int) bool { return false }), probeWarmup+16; got != want {
		t.Errorf("unpaid probes: %d ran, want %d", got, want)
	}
	// Target-COPY probes that pay half the time all run.
	if got := run(kindTgt, 4*probeWarmup, func(i int) bool { return i%2 == 0 }); got != 4*probeWarmup {
		t.Errorf("paying probes: %d of %d ran", got, 4*probeWarmup)
	}
	// The levels that spend CPU for size always probe.
	m = &matcher{p: &levelTable[BestLevel]}
	if got := run(kindSrc, 2*probeWarmup, func(int) bool { return false }); got != 2*probeWarmup {
		t.Errorf("level %d: %d of %d probes ran", BestLevel, got, 2*probeWarmup)
	}
}
