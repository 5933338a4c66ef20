package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

func statsCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "stored vs original bytes and savings, in total and per deltaspace",
		ArgsUsage: "s3://BUCKET[/PREFIX]",
		Description: "Walks the listing as a stream (any number of objects; memory grows only with the\n" +
			"number of deltaspaces) and reads each delta's metadata for its original size,\n" +
			"--jobs at a time. Stored bytes include the references.\n\n" +
			"Examples:\n" +
			"  deltaglider stats s3://releases\n" +
			"  deltaglider stats --json s3://releases/app/",
		Flags:  append(backendFlags(), jsonFlag()),
		Action: withSession(e, runStats),
	}
}

// spaceStats are the figures of one deltaspace (or of the total).
type spaceStats struct {
	Deltaspace     string  `json:"deltaspace"`
	Objects        int64   `json:"objects"`
	DeltaObjects   int64   `json:"delta_objects"`
	DirectObjects  int64   `json:"direct_objects"`
	References     int64   `json:"references"`
	OriginalBytes  int64   `json:"original_bytes"`
	StoredBytes    int64   `json:"stored_bytes"`
	ReferenceBytes int64   `json:"reference_bytes"`
	Savings        float64 `json:"savings"`
	// UnknownSizes counts deltas whose metadata gives no original size
	// (their stored size is counted as original).
	UnknownSizes int64 `json:"unknown_sizes,omitempty"`
}

func (a *spaceStats) merge(b *spaceStats) {
	a.Objects += b.Objects
	a.DeltaObjects += b.DeltaObjects
	a.DirectObjects += b.DirectObjects
	a.References += b.References
	a.OriginalBytes += b.OriginalBytes
	a.StoredBytes += b.StoredBytes
	a.ReferenceBytes += b.ReferenceBytes
	a.UnknownSizes += b.UnknownSizes
}

type statsReport struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	spaceStats
	Deltaspaces []*spaceStats `json:"deltaspaces"`
}

// collectStats streams the listing of bucket/prefix into per-deltaspace
// figures, reading delta metadata on s.jobs goroutines.
func (s *session) collectStats(bucket, prefix string) (*statsReport, error) {
	ctx := s.ctx
	var mu sync.Mutex
	spaces := map[string]*spaceStats{}
	get := func(space string) *spaceStats {
		st := spaces[space]
		if st == nil {
			st = &spaceStats{Deltaspace: space}
			spaces[space] = st
		}
		return st
	}
	p := newPool(ctx, s.jobs)
	var firstErr error
	s.rep.startBar("stats", -1, false)
	err := s.st.List(ctx, bucket, store.ListOptions{Prefix: prefix}, func(e store.Entry) error {
		k := e.Key
		if strings.HasPrefix(k, delta.InternalPrefix) {
			return nil
		}
		space, name := "", k
		if i := strings.LastIndexByte(k, '/'); i >= 0 {
			space, name = k[:i+1], k[i+1:]
		}
		s.rep.add(1)
		mu.Lock()
		st := get(space)
		st.StoredBytes += e.Size
		switch {
		case name == delta.ReferenceName:
			st.References++
			st.ReferenceBytes += e.Size
			mu.Unlock()
		case strings.HasSuffix(name, delta.DeltaSuffix):
			st.Objects++
			st.DeltaObjects++
			mu.Unlock()
			size := e.Size
			return p.submit(func() {
				oi, err := s.st.Stat(ctx, bucket, k)
				orig := int64(-1)
				switch {
				case err == nil:
					if v, ok := metaValue(oi.Metadata, "file-size"); ok {
						if n, perr := strconv.ParseInt(v, 10, 64); perr == nil && n >= 0 {
							orig = n
						}
					}
				case errors.Is(err, store.ErrNotExist):
					// deleted since listed
				default:
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mu.Lock()
				if orig < 0 {
					st.UnknownSizes++
					orig = size
				}
				st.OriginalBytes += orig
				mu.Unlock()
			})
		default:
			st.Objects++
			st.DirectObjects++
			st.OriginalBytes += e.Size
			mu.Unlock()
		}
		return nil
	})
	p.wait()
	s.rep.finishBar()
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return nil, err
	}
	r := &statsReport{Bucket: bucket, Prefix: prefix, spaceStats: spaceStats{Deltaspace: prefix}}
	for _, st := range spaces {
		st.Savings = savings(st.OriginalBytes, st.StoredBytes)
		r.merge(st)
		r.Deltaspaces = append(r.Deltaspaces, st)
	}
	slices.SortFunc(r.Deltaspaces, func(a, b *spaceStats) int { return strings.Compare(a.Deltaspace, b.Deltaspace) })
	r.Savings = savings(r.OriginalBytes, r.StoredBytes)
	return r, nil
}

func runStats(s *session) error {
	if s.c.NArg() != 1 {
		return usageErrorf("stats takes one s3://BUCKET[/PREFIX]")
	}
	loc, err := bucketArg(s.c.Args().First())
	if err != nil {
		return err
	}
	r, err := s.collectStats(loc.bucket, loc.key)
	if err != nil {
		return wrapOp(loc.String(), err)
	}
	if r.Deltaspaces == nil {
		r.Deltaspaces = []*spaceStats{}
	}
	s.rep.record(r)
	s.rep.linef("%s", loc.String())
	s.rep.linef("  objects:        %d (%d as deltas, %d stored whole), %d references", r.Objects, r.DeltaObjects,
		r.DirectObjects, r.References)
	s.rep.linef("  original size:  %s (%d bytes)", humanBytes(r.OriginalBytes), r.OriginalBytes)
	s.rep.linef("  stored size:    %s (%d bytes, references %s)", humanBytes(r.StoredBytes), r.StoredBytes,
		humanBytes(r.ReferenceBytes))
	s.rep.linef("  savings:        %s", percent(r.Savings))
	if r.UnknownSizes > 0 {
		s.rep.linef("  note: %d deltas carry no original size; their stored size was counted", r.UnknownSizes)
	}
	if len(r.Deltaspaces) > 0 {
		s.rep.linef("  %-40s %8s %12s %12s %8s", "deltaspace", "objects", "original", "stored", "savings")
		for _, st := range r.Deltaspaces {
			name := st.Deltaspace
			if name == "" {
				name = "(bucket root)"
			}
			s.rep.linef("  %-40s %8d %12s %12s %8s", name, st.Objects, humanBytes(st.OriginalBytes),
				humanBytes(st.StoredBytes), fmt.Sprintf("%.1f%%", 100*st.Savings))
		}
	}
	return nil
}
