package main

import (
	"os"
	"runtime/debug"
)

// A small VCDIFF encode is over in tens of milliseconds, and the heap
// passes the collector's 4 MB starting goal almost at once: the one or two
// cycles that follow (about 1.5 ms of CPU each on the benchmark machine)
// are a tenth of the whole run. For a job whose inputs are small, the process therefore
// lets the heap grow to smallJobHeap before it collects; the inputs bound
// what the job can allocate far below that. Bigger jobs, where a cycle is
// lost in the noise and skipping them would only raise the peak memory,
// keep the runtime's pacing, and so does any process started with GOGC or
// GOMEMLIMIT set. The measurements are in docs/BENCHMARKS.md.
const (
	smallJobInput = 32 << 20
	smallJobHeap  = 256 << 20
)

// tuneGC, when set (only main sets it, so that tests running commands in
// their own process are not affected), is told the input size of a one-shot
// job before the job starts.
var tuneGC func(inputBytes int64)

// deferGCForSmallJob applies the policy above to this process.
func deferGCForSmallJob(inputBytes int64) {
	if smallJob(inputBytes, os.Getenv) {
		debug.SetMemoryLimit(smallJobHeap)
		debug.SetGCPercent(-1)
	}
}

// smallJob reports whether a job reading inputBytes in all (negative when
// unknown) gets the deferred collection, given the process environment.
func smallJob(inputBytes int64, getenv func(string) string) bool {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return false
	}
	return inputBytes >= 0 && inputBytes <= smallJobInput
}
