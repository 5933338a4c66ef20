package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

func migrateCommand(e *env) *cli.Command {
	flags := append(backendFlags(), jsonFlag(),
		&cli.BoolFlag{Name: "dry-run", Aliases: []string{"dryrun"}, Usage: "only print what would be copied"},
		&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
	)
	flags = append(append(flags, writeFlags()...), filterFlags()...)
	return &cli.Command{
		Name:      "migrate",
		Usage:     "copy every object of a bucket/prefix into another, re-stored as deltas (resumable)",
		ArgsUsage: "s3://SRC-BUCKET[/PREFIX] s3://DST-BUCKET[/PREFIX]",
		Description: "Reads every logical object under the source — plain objects, objects stored whole\n" +
			"and objects that are already DeltaGlider deltas alike — and stores it under the\n" +
			"destination prefix through the delta engine, --jobs at a time. Objects already at\n" +
			"the destination with the same SHA-256 (or, lacking checksums, the same size) are\n" +
			"skipped, so an interrupted migration resumes where it stopped. The source is not\n" +
			"modified. --plain writes plain objects instead (to leave DeltaGlider).\n\n" +
			"Examples:\n" +
			"  deltaglider migrate --dry-run s3://old-releases s3://releases/\n" +
			"  deltaglider migrate --yes --jobs 8 s3://old-releases/app/ s3://releases/app/",
		Flags:  flags,
		Action: withSession(e, runMigrate),
	}
}

// sameObject reports whether dst already holds what src holds.
func sameObject(src, dst delta.Info) bool {
	if src.Size != dst.Size {
		return false
	}
	if src.SHA256 != "" && dst.SHA256 != "" {
		return src.SHA256 == dst.SHA256
	}
	return true // no checksum to compare; puts are atomic, so an equal size means a finished copy
}

func runMigrate(s *session) error {
	c := s.c
	if c.NArg() != 2 {
		return usageErrorf("migrate needs a source and a destination s3:// location")
	}
	src, err := bucketArg(c.Args().Get(0))
	if err != nil {
		return err
	}
	dst, err := bucketArg(c.Args().Get(1))
	if err != nil {
		return err
	}
	o, err := readPutOpts(c)
	if err != nil {
		return err
	}
	f, err := newFilters(c)
	if err != nil {
		return err
	}
	sp, dp := dirPrefix(src.key), dirPrefix(dst.key)
	if src.bucket == dst.bucket && (strings.HasPrefix(sp, dp) || strings.HasPrefix(dp, sp)) {
		return usageErrorf("migrate: %s and %s overlap; choose another destination prefix", src, dst)
	}
	ctx, dry := s.ctx, c.Bool("dry-run")
	for _, b := range []string{src.bucket, dst.bucket} {
		ok, err := s.st.BucketExists(ctx, b)
		if err != nil {
			return wrapOp("s3://"+b, err)
		}
		if !ok {
			return wrapOp("s3://"+b, store.ErrBucketNotExist)
		}
	}
	if !dry && !c.Bool("yes") {
		if !isTerminal(s.e.stdin) {
			return usageErrorf("migrate copies every object of %s; pass --yes to confirm (or --dry-run to preview)", src)
		}
		fmt.Fprintf(s.e.stderr, "Copy every object of s3://%s/%s to s3://%s/%s (%s)? [y/N] ", src.bucket, sp, dst.bucket, dp, s.where)
		line, _ := bufio.NewReader(s.e.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return errors.New("migration cancelled")
		}
	}
	var t tally
	var skipped atomic.Int64
	p := newPool(ctx, s.jobs)
	// A bytes bar, as for cp -r: the copies feed it their bytes, and a
	// skipped object counts as done.
	s.rep.startBar("migrate", -1, true)
	sd := newSeeder()
	err = s.dc.List(ctx, src.bucket, delta.ListOptions{Prefix: sp, StoredSizes: true}, func(le delta.ListEntry) error {
		if le.IsPrefix {
			return nil
		}
		rel := strings.TrimPrefix(le.Key, sp)
		if !f.keep(rel) {
			return nil
		}
		from := location{s3: true, bucket: src.bucket, key: le.Key}
		to := location{s3: true, bucket: dst.bucket, key: dp + rel}
		return p.submit(sd.wrap(to.key, func() {
			si, err := s.dc.Stat(ctx, src.bucket, le.Key)
			if err != nil {
				s.itemFailed(p, "migrate", from.String(), err)
				return
			}
			di, err := s.dc.Stat(ctx, dst.bucket, to.key)
			switch {
			case err == nil && sameObject(si, di):
				skipped.Add(1)
				s.rep.add(si.Size)
				s.rep.record(transferRecord{Type: "skip", Src: from.String(), Dst: to.String(), Size: si.Size})
				return
			case err != nil && !errors.Is(err, store.ErrNotExist) && !errors.Is(err, delta.ErrMissingMetadata):
				s.itemFailed(p, "migrate", to.String(), err)
				return
			}
			if dry {
				s.rep.add(si.Size)
				t.add(delta.Info{Size: si.Size})
				s.reportTransfer("copy", from.String(), to.String(), si, true)
				return
			}
			info, err := s.copyObject(ctx, src.bucket, le.Key, dst.bucket, to.key, o)
			if err != nil {
				s.itemFailed(p, "migrate", from.String(), err)
				return
			}
			t.add(info)
			s.reportTransfer("copy", from.String(), to.String(), info, false)
		}))
	})
	p.wait()
	s.rep.finishBar()
	if err != nil {
		return wrapOp(src.String(), err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.summarize("migrate", &t, p.failures(), skipped.Load(), 0, dry)
	return summaryError(p.failures(), "objects")
}
