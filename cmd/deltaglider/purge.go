package main

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

func purgeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "purge",
		Usage:     "remove temporary files, unused references and orphaned deltas",
		ArgsUsage: "s3://BUCKET[/PREFIX]",
		Description: "Removes, under the prefix:\n" +
			"  - expired temporary objects in .deltaglider/tmp/ (dg-expires-at passed, or older than\n" +
			"    a day without one) and, on the embedded store, files left by crashed writers;\n" +
			"  - .delta objects whose reference is gone (they can never be read) and stale .delta\n" +
			"    twins of objects since stored whole;\n" +
			"  - reference.bin objects that no delta uses any more (re-checked after removal, so\n" +
			"    a delta written concurrently keeps its reference).\n\n" +
			"Examples:\n" +
			"  deltaglider purge --dry-run s3://releases\n" +
			"  deltaglider purge s3://releases/app/",
		Flags: append(backendFlags(), jsonFlag(),
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"dryrun"}, Usage: "only print what would be removed"},
		),
		Action: withSession(e, runPurge),
	}
}

type purgeRecord struct {
	Type   string `json:"type"` // "purge"
	Object string `json:"object"`
	Kind   string `json:"kind"` // "temp", "orphaned-delta", "stale-delta", "unused-reference"
	DryRun bool   `json:"dryrun,omitempty"`
}

func parseExpiry(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func runPurge(s *session) error {
	c := s.c
	if c.NArg() != 1 {
		return usageErrorf("purge takes one s3://BUCKET[/PREFIX]")
	}
	loc, err := bucketArg(c.Args().First())
	if err != nil {
		return err
	}
	ctx, dry, bucket := s.ctx, c.Bool("dry-run"), loc.bucket
	var mu sync.Mutex
	var removed int64
	note := func(key, kind string) {
		mu.Lock()
		removed++
		mu.Unlock()
		obj := "s3://" + bucket + "/" + key
		s.rep.record(purgeRecord{Type: "purge", Object: obj, Kind: kind, DryRun: dry})
		if dry {
			s.rep.linef("(dryrun) purge: %s (%s)", obj, kind)
		} else {
			s.rep.linef("purge: %s (%s)", obj, kind)
		}
	}
	if ok, err := s.st.BucketExists(ctx, bucket); err != nil {
		return wrapOp(loc.String(), err)
	} else if !ok {
		return wrapOp(loc.String(), store.ErrBucketNotExist)
	}

	// 1. Temporary objects (rehydrated copies of the Python tool).
	now := time.Now()
	tmpPrefix := delta.InternalPrefix + "tmp/"
	err = s.st.List(ctx, bucket, store.ListOptions{Prefix: tmpPrefix}, func(e store.Entry) error {
		oi, err := s.st.Stat(ctx, bucket, e.Key)
		if errors.Is(err, store.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		expired := now.Sub(oi.ModTime) > 24*time.Hour
		if v, ok := metaValue(oi.Metadata, "expires-at"); ok {
			if t, ok := parseExpiry(v); ok {
				expired = now.After(t)
			}
		}
		if !expired {
			return nil
		}
		if !dry {
			if err := s.st.Delete(ctx, bucket, e.Key); err != nil {
				return err
			}
		}
		note(e.Key, "temp")
		return nil
	})
	if err != nil {
		return wrapOp(loc.String(), err)
	}
	if s.fs != nil && !dry {
		// Files of writers that crashed (the embedded store's own temp files).
		if err := s.fs.Cleanup(ctx, time.Hour); err != nil {
			return err
		}
	}

	// 2. Deltas that can never be read, and stale twins.
	refExists := map[string]bool{}
	checkRef := func(rk string) (bool, error) {
		mu.Lock()
		ok, seen := refExists[rk]
		mu.Unlock()
		if seen {
			return ok, nil
		}
		_, err := s.st.Stat(ctx, bucket, rk)
		if err != nil && !errors.Is(err, store.ErrNotExist) {
			return false, err
		}
		mu.Lock()
		refExists[rk] = err == nil
		mu.Unlock()
		return err == nil, nil
	}
	used := map[string]bool{}
	refs := map[string]bool{}
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	p := newPool(ctx, s.jobs)
	err = s.st.List(ctx, bucket, store.ListOptions{Prefix: loc.key}, func(e store.Entry) error {
		k := e.Key
		if strings.HasPrefix(k, delta.InternalPrefix) {
			return nil
		}
		if k == delta.ReferenceName || strings.HasSuffix(k, "/"+delta.ReferenceName) {
			mu.Lock()
			refs[k] = true
			mu.Unlock()
			return nil
		}
		if !strings.HasSuffix(k, delta.DeltaSuffix) {
			return nil
		}
		return p.submit(func() {
			lk := strings.TrimSuffix(k, delta.DeltaSuffix)
			info, err := s.dc.Stat(ctx, bucket, lk)
			switch {
			case errors.Is(err, store.ErrNotExist):
				return // deleted since listed
			case errors.Is(err, delta.ErrMissingMetadata), errors.Is(err, delta.ErrInvalidMetadata):
				s.rep.warnf("purge: left %s alone: %s", "s3://"+bucket+"/"+k, friendly(err))
				return
			case err != nil:
				fail(err)
				return
			}
			if info.StoredKey != k {
				// The object was since stored whole; this delta is a
				// leftover of an interrupted put.
				if !dry {
					if err := s.st.Delete(ctx, bucket, k); err != nil {
						fail(err)
						return
					}
				}
				note(k, "stale-delta")
				return
			}
			mu.Lock()
			used[info.RefKey] = true
			mu.Unlock()
			ok, err := checkRef(info.RefKey)
			if err != nil {
				fail(err)
				return
			}
			if ok {
				return
			}
			// Re-check just before deleting: a writer may be seeding the
			// deltaspace right now.
			if _, err := s.st.Stat(ctx, bucket, info.RefKey); err == nil {
				return
			}
			if !dry {
				if err := s.st.Delete(ctx, bucket, k); err != nil {
					fail(err)
					return
				}
			}
			note(k, "orphaned-delta")
		})
	})
	p.wait()
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return wrapOp(loc.String(), err)
	}

	// 3. References no delta uses.
	if dry {
		for rk := range refs {
			if !used[rk] {
				note(rk, "unused-reference")
			}
		}
	} else {
		gone, err := s.dc.Purge(ctx, bucket, loc.key)
		if err != nil {
			return wrapOp(loc.String(), err)
		}
		for _, rk := range gone {
			note(rk, "unused-reference")
		}
	}
	s.rep.record(summaryRecord{Type: "summary", Command: "purge", Objects: removed, DryRun: dry})
	if dry {
		s.rep.linef("(dryrun) purge: %s would be removed", plural(removed, "object"))
	} else {
		s.rep.linef("purge: %s removed", plural(removed, "object"))
	}
	return nil
}
