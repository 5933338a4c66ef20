package main

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
)

func rmCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "delete objects (delta-aware: references go when nothing uses them, never before)",
		ArgsUsage: "s3://BUCKET/KEY",
		Description: "Deletes a logical object whichever way it is stored. A deltaspace's reference.bin\n" +
			"is removed only once no delta uses it, with a re-check that repairs a delta added\n" +
			"concurrently, so a deletion never leaves an unreadable object behind.\n\n" +
			"Examples:\n" +
			"  deltaglider rm s3://releases/app/app-1.2.0.zip\n" +
			"  deltaglider rm -r --dryrun s3://releases/app/",
		Flags: append(append(backendFlags(), jsonFlag(),
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "delete everything under the prefix"},
			&cli.BoolFlag{Name: "dryrun", Aliases: []string{"dry-run"}, Usage: "only print what would be deleted"},
		), filterFlags()...),
		Action: withSession(e, runRm),
	}
}

// refKeyOf is the key of the reference of key's deltaspace.
func refKeyOf(key string) string {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i+1] + delta.ReferenceName
	}
	return delta.ReferenceName
}

// releaseRefs removes the references of the given deltaspaces (given by
// reference key) if nothing uses them any more. Listing exactly the
// reference key as a prefix keeps each check to its own deltaspace.
func (s *session) releaseRefs(ctx context.Context, bucket string, refs map[string]bool) error {
	for rk := range refs {
		if _, err := s.dc.Purge(ctx, bucket, rk); err != nil {
			return err
		}
	}
	return nil
}

func runRm(s *session) error {
	c := s.c
	if c.NArg() != 1 {
		return usageErrorf("rm takes one s3://BUCKET/KEY")
	}
	loc, err := parseLocation(c.Args().First())
	if err != nil {
		return err
	}
	if !loc.s3 {
		return usageErrorf("rm works on s3://BUCKET/KEY, not local paths")
	}
	f, err := newFilters(c)
	if err != nil {
		return err
	}
	dry := c.Bool("dryrun")
	ctx := s.ctx
	if !c.Bool("recursive") {
		if loc.key == "" || strings.HasSuffix(loc.key, "/") {
			return usageErrorf("%s is a prefix; use rm -r", loc)
		}
		info, err := s.dc.Stat(ctx, loc.bucket, loc.key)
		if err != nil && !errors.Is(err, delta.ErrMissingMetadata) && !errors.Is(err, delta.ErrIntegrity) {
			return wrapOp(loc.String(), err)
		}
		if !dry {
			if _, err := s.dc.Delete(ctx, loc.bucket, loc.key); err != nil {
				return wrapOp(loc.String(), err)
			}
			if err := s.releaseRefs(ctx, loc.bucket, map[string]bool{refKeyOf(loc.key): true}); err != nil {
				return wrapOp(loc.String(), err)
			}
		}
		s.reportTransfer("delete", loc.String(), "", info, dry)
		return nil
	}
	prefix := dirPrefix(loc.key)
	var t tally
	filtered := len(f.include)+len(f.exclude) > 0
	if dry || filtered {
		// Per object, --jobs at a time: a dry run, or filters that
		// DeleteRecursive lacks. The references of the deltaspaces touched
		// are released at the end, each only if nothing uses it.
		var mu sync.Mutex
		refs := map[string]bool{}
		p := newPool(ctx, s.jobs)
		s.rep.startBar("delete", -1, false)
		err := s.dc.List(ctx, loc.bucket, delta.ListOptions{Prefix: prefix, StoredSizes: true}, func(le delta.ListEntry) error {
			if le.IsPrefix || !f.keep(strings.TrimPrefix(le.Key, prefix)) {
				return nil
			}
			obj := "s3://" + loc.bucket + "/" + le.Key
			if dry {
				t.objects.Add(1)
				s.reportTransfer("delete", obj, "", le.Info, true)
				return nil
			}
			return p.submit(func() {
				if _, err := s.dc.Delete(ctx, loc.bucket, le.Key); err != nil {
					s.itemFailed(p, "delete", obj, err)
					return
				}
				mu.Lock()
				refs[refKeyOf(le.Key)] = true
				mu.Unlock()
				s.rep.add(1)
				t.objects.Add(1)
				s.reportTransfer("delete", obj, "", le.Info, false)
			})
		})
		p.wait()
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			err = s.releaseRefs(ctx, loc.bucket, refs)
		}
		s.rep.finishBar()
		if err != nil {
			return wrapOp(loc.String(), err)
		}
		s.summarize("rm", &t, p.failures(), 0, 0, dry)
		return summaryError(p.failures(), "deletions")
	}
	s.rep.startBar("delete", -1, false)
	n, err := s.dc.DeleteRecursive(ctx, loc.bucket, prefix, func(p delta.Progress) {
		s.rep.add(1)
		k := strings.TrimSuffix(p.Key, delta.DeltaSuffix)
		s.rep.linef("delete: s3://%s/%s", loc.bucket, k)
		s.rep.record(transferRecord{Type: "delete", Src: "s3://" + loc.bucket + "/" + k})
	})
	s.rep.finishBar()
	if err != nil {
		return wrapOp(loc.String(), err)
	}
	t.objects.Store(n)
	s.summarize("rm", &t, 0, 0, 0, false)
	return nil
}
