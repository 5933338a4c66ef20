package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/fsstore"
)

func analyzeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "analyze",
		Usage:     "trial-encode a sample of each deltaspace and project the savings",
		ArgsUsage: "DIR | s3://BUCKET[/PREFIX]",
		Description: "Groups the files of a local directory (or the objects under a prefix) by\n" +
			"deltaspace (parent directory), stores a sample of each — the first file as the\n" +
			"reference, then evenly spaced others — into a scratch store with the real delta\n" +
			"engine, and extrapolates the measured delta ratio to the whole deltaspace. Nothing\n" +
			"is written to the analysed location.\n\n" +
			"Examples:\n" +
			"  deltaglider analyze ./releases\n" +
			"  deltaglider analyze --sample 8 --json s3://releases/app/",
		Flags: append(backendFlags(), jsonFlag(),
			&cli.IntFlag{Name: "sample", Value: 4, Usage: "files trial-encoded per deltaspace (reference included), `N` ≥ 2"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("analyze takes one DIR or s3://BUCKET[/PREFIX]")
			}
			if c.Int("sample") < 2 {
				return usageErrorf("--sample %d: want at least 2 (a reference and one delta)", c.Int("sample"))
			}
			loc, err := parseLocation(c.Args().First())
			if err != nil {
				return err
			}
			if !loc.s3 {
				// A local analysis needs no backend.
				n, err := jobs(c)
				if err != nil {
					return err
				}
				s := &session{c: c, e: e, ctx: c.Context, jobs: n,
					rep: newReporter(e, gBool(c, "quiet"), gBool(c, "json"), gBool(c, "no-progress"))}
				defer s.close()
				return runAnalyze(s, loc)
			}
			return withSession(e, func(s *session) error { return runAnalyze(s, loc) })(c)
		},
	}
}

// analyzeItem is one file or object of a deltaspace.
type analyzeItem struct {
	name string // key or path
	size int64
	open func(ctx context.Context) (io.ReadCloser, error)
}

type analyzeRecord struct {
	Type             string  `json:"type"` // "deltaspace" or "total"
	Deltaspace       string  `json:"deltaspace,omitempty"`
	Files            int64   `json:"files"`
	OriginalBytes    int64   `json:"original_bytes"`
	Sampled          int     `json:"sampled"`
	SampledBytes     int64   `json:"sampled_bytes"`
	SampleStored     int64   `json:"sample_stored_bytes"`
	ProjectedStored  int64   `json:"projected_stored_bytes"`
	ProjectedSavings float64 `json:"projected_savings"`
}

// pickSample returns up to n items: the first, then evenly spaced others.
func pickSample(items []analyzeItem, n int) []analyzeItem {
	if len(items) <= n {
		return items
	}
	out := []analyzeItem{items[0]}
	rest := items[1:]
	k := n - 1
	for i := 0; i < k; i++ {
		out = append(out, rest[i*len(rest)/k])
	}
	return out
}

func runAnalyze(s *session, loc location) error {
	ctx := s.ctx
	spaces := map[string][]analyzeItem{}
	if loc.s3 {
		prefix := loc.key
		err := s.dc.List(ctx, loc.bucket, delta.ListOptions{Prefix: prefix}, func(le delta.ListEntry) error {
			if le.IsPrefix {
				return nil
			}
			key, size := le.Key, le.Size
			if size < 0 {
				size = le.StoredSize
			}
			sp, _ := path.Split(key)
			spaces[sp] = append(spaces[sp], analyzeItem{name: key, size: size, open: func(ctx context.Context) (io.ReadCloser, error) {
				rc, _, err := s.dc.Get(ctx, loc.bucket, key, delta.GetOptions{Length: -1})
				return rc, err
			}})
			return nil
		})
		if err != nil {
			return wrapOp(loc.String(), err)
		}
	} else {
		fi, err := os.Stat(loc.path)
		if err != nil {
			return wrapOp(loc.path, err)
		}
		if !fi.IsDir() {
			return usageErrorf("analyze: %s is not a directory", loc.path)
		}
		files, err := walkLocal(loc.path, filters{})
		if err != nil {
			return wrapOp(loc.path, err)
		}
		for _, lf := range files {
			sp, _ := path.Split(lf.rel)
			p := lf.path
			spaces[sp] = append(spaces[sp], analyzeItem{name: lf.rel, size: lf.size, open: func(context.Context) (io.ReadCloser, error) {
				return os.Open(p)
			}})
		}
	}
	names := make([]string, 0, len(spaces))
	for sp := range spaces {
		names = append(names, sp)
	}
	slices.Sort(names)

	scratch, err := os.MkdirTemp("", "deltaglider-analyze-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	total := analyzeRecord{Type: "total"}
	s.rep.linef("%-40s %7s %12s %8s %12s %9s", "deltaspace", "files", "original", "sampled", "projected", "savings")
	// Deltaspaces are trial-encoded in parallel (--jobs), then reported in
	// name order.
	recs := make([]analyzeRecord, len(names))
	errs := make([]error, len(names))
	p := newPool(ctx, s.jobs)
	s.rep.startBar("analyze", int64(len(names)), false)
	for i, sp := range names {
		if err := p.submit(func() {
			items := spaces[sp]
			slices.SortFunc(items, func(a, b analyzeItem) int { return strings.Compare(a.name, b.name) })
			recs[i], errs[i] = s.trialSpace(ctx, fmt.Sprintf("%s/%d", scratch, i), sp, items, s.c.Int("sample"))
			s.rep.add(1)
		}); err != nil {
			break
		}
	}
	p.wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, sp := range names {
		if errs[i] != nil {
			return wrapOp(sp, errs[i])
		}
		rec := recs[i]
		s.rep.record(rec)
		name := sp
		if name == "" {
			name = "(top level)"
		}
		s.rep.linef("%-40s %7d %12s %8d %12s %9s", name, rec.Files, humanBytes(rec.OriginalBytes), rec.Sampled,
			humanBytes(rec.ProjectedStored), percent(rec.ProjectedSavings))
		total.Files += rec.Files
		total.OriginalBytes += rec.OriginalBytes
		total.Sampled += rec.Sampled
		total.SampledBytes += rec.SampledBytes
		total.SampleStored += rec.SampleStored
		total.ProjectedStored += rec.ProjectedStored
	}
	s.rep.finishBar()
	total.ProjectedSavings = savings(total.OriginalBytes, total.ProjectedStored)
	s.rep.record(total)
	s.rep.linef("%-40s %7d %12s %8d %12s %9s", "total", total.Files, humanBytes(total.OriginalBytes), total.Sampled,
		humanBytes(total.ProjectedStored), percent(total.ProjectedSavings))
	s.rep.linef("projection from %d trial-encoded files (%s of %s); sample more with --sample", total.Sampled,
		humanBytes(total.SampledBytes), humanBytes(total.OriginalBytes))
	return nil
}

// trialSpace stores a sample of one deltaspace in a scratch store and
// extrapolates: the reference is stored whole, every other file at the
// sample's measured ratio.
func (s *session) trialSpace(ctx context.Context, dir, space string, items []analyzeItem, n int) (analyzeRecord, error) {
	rec := analyzeRecord{Type: "deltaspace", Deltaspace: space, Files: int64(len(items))}
	for _, it := range items {
		rec.OriginalBytes += it.size
	}
	defer os.RemoveAll(dir)
	st, err := fsstore.New(dir, fsstore.WithoutSync(), fsstore.WithMetadata(fsstore.MetadataSidecar))
	if err != nil {
		return rec, err
	}
	defer st.Close()
	if err := st.CreateBucket(ctx, "trial"); err != nil {
		return rec, err
	}
	dc, err := delta.New(st, delta.WithoutCache())
	if err != nil {
		return rec, err
	}
	var refBytes, restOrig, restStored int64
	sample := pickSample(items, n)
	for i, it := range sample {
		rc, err := it.open(ctx)
		if err != nil {
			return rec, err
		}
		info, err := dc.Put(ctx, "trial", fmt.Sprintf("s/%04d-%s", i, path.Base(it.name)), rc, delta.PutOptions{Size: it.size})
		rc.Close()
		if err != nil {
			return rec, fmt.Errorf("%s: %w", it.name, err)
		}
		rec.Sampled++
		rec.SampledBytes += info.Size
		if info.CreatedReference {
			refBytes += info.Size
			rec.SampleStored += info.Size + info.StoredSize
			continue
		}
		rec.SampleStored += info.StoredSize
		restOrig += info.Size
		restStored += info.StoredSize
	}
	ratio := 1.0
	if restOrig > 0 {
		ratio = float64(restStored) / float64(restOrig)
	}
	rec.ProjectedStored = refBytes + int64(float64(rec.OriginalBytes-refBytes)*ratio)
	rec.ProjectedSavings = savings(rec.OriginalBytes, rec.ProjectedStored)
	return rec, nil
}
