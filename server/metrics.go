package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the latency histogram.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	n      uint64
}

type reqKey struct {
	op   string
	code int
}

// metrics are kept by hand and written in the Prometheus text exposition
// format (version 0.0.4); no client library is needed for a handful of
// counters and one histogram family.
type metrics struct {
	mu       sync.Mutex
	requests map[reqKey]uint64
	latency  map[string]*histogram

	inflight       atomic.Int64
	bytesIn        atomic.Int64 // request body bytes received
	bytesOut       atomic.Int64 // response body bytes sent
	putOriginal    atomic.Int64 // logical bytes of stored objects
	putStored      atomic.Int64 // bytes written to the store for them (deltas, direct objects, new references)
	objectsDelta   atomic.Int64
	objectsDirect  atomic.Int64
	referencesMade atomic.Int64
}

func newMetrics() *metrics {
	return &metrics{requests: map[reqKey]uint64{}, latency: map[string]*histogram{}}
}

func (m *metrics) observe(op string, code int, d time.Duration, in, out int64) {
	m.bytesIn.Add(in)
	m.bytesOut.Add(out)
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{op, code}]++
	h := m.latency[op]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[op] = h
	}
	i, _ := slices.BinarySearch(latencyBuckets, sec)
	h.counts[i]++
	h.sum += sec
	h.n++
}

// stored records one object written through the delta engine.
func (m *metrics) stored(original, stored int64, isDelta, madeRef bool) {
	m.putOriginal.Add(original)
	m.putStored.Add(stored)
	if isDelta {
		m.objectsDelta.Add(1)
	} else {
		m.objectsDirect.Add(1)
	}
	if madeRef {
		m.referencesMade.Add(1)
	}
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (s *Server) writeMetrics(rq *request) error {
	m := s.metrics
	var b strings.Builder
	counter := func(name, help string, v int64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	gauge := func(name, help, v string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, v)
	}
	counter("deltaglider_received_bytes_total", "Request body bytes received.", m.bytesIn.Load())
	counter("deltaglider_sent_bytes_total", "Response body bytes sent.", m.bytesOut.Load())
	orig, stored := m.putOriginal.Load(), m.putStored.Load()
	counter("deltaglider_original_bytes_total", "Logical (original) bytes of objects stored.", orig)
	counter("deltaglider_stored_bytes_total", "Bytes written to the backing store for those objects, new references included.", stored)
	counter("deltaglider_saved_bytes_total", "original_bytes_total minus stored_bytes_total.", orig-stored)
	ratio := 0.0
	if orig > 0 {
		ratio = 1 - float64(stored)/float64(orig)
	}
	gauge("deltaglider_savings_ratio", "1 - stored/original over the objects stored since start.", fmtFloat(ratio))
	fmt.Fprintf(&b, "# HELP deltaglider_objects_stored_total Objects stored, by how.\n# TYPE deltaglider_objects_stored_total counter\n")
	fmt.Fprintf(&b, "deltaglider_objects_stored_total{storage=\"delta\"} %d\n", m.objectsDelta.Load())
	fmt.Fprintf(&b, "deltaglider_objects_stored_total{storage=\"direct\"} %d\n", m.objectsDirect.Load())
	counter("deltaglider_references_created_total", "Deltaspace references created.", m.referencesMade.Load())
	gauge("deltaglider_inflight_requests", "Requests being served.", strconv.FormatInt(m.inflight.Load(), 10))
	gauge("deltaglider_multipart_uploads", "Multipart uploads in progress.", strconv.Itoa(s.uploads.count()))

	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if c := strings.Compare(a.op, b.op); c != 0 {
			return c
		}
		return a.code - b.code
	})
	fmt.Fprintf(&b, "# HELP deltaglider_http_requests_total Requests served, by S3 operation and status code.\n# TYPE deltaglider_http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "deltaglider_http_requests_total{op=%q,code=\"%d\"} %d\n", k.op, k.code, m.requests[k])
	}
	ops := make([]string, 0, len(m.latency))
	for op := range m.latency {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	fmt.Fprintf(&b, "# HELP deltaglider_http_request_duration_seconds Request latency, by S3 operation.\n# TYPE deltaglider_http_request_duration_seconds histogram\n")
	for _, op := range ops {
		h := m.latency[op]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "deltaglider_http_request_duration_seconds_bucket{op=%q,le=\"%s\"} %d\n", op, fmtFloat(le), cum)
		}
		cum += h.counts[len(latencyBuckets)]
		fmt.Fprintf(&b, "deltaglider_http_request_duration_seconds_bucket{op=%q,le=\"+Inf\"} %d\n", op, cum)
		fmt.Fprintf(&b, "deltaglider_http_request_duration_seconds_sum{op=%q} %s\n", op, fmtFloat(h.sum))
		fmt.Fprintf(&b, "deltaglider_http_request_duration_seconds_count{op=%q} %d\n", op, h.n)
	}
	m.mu.Unlock()

	h := rq.w.Header()
	h.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	rq.w.WriteHeader(http.StatusOK)
	if rq.r.Method == http.MethodHead {
		return nil
	}
	_, err := rq.w.Write([]byte(b.String()))
	return err
}
