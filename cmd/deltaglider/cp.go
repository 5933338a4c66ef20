package main

import (
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
)

func writeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "no-delta", Usage: "store files whole, never as deltas"},
		&cli.Float64Flag{Name: "max-ratio", Usage: "store a file whole when its delta exceeds `R` × its size (0 < R ≤ 1; default 0.5 or DG_MAX_RATIO)"},
		&cli.BoolFlag{Name: "plain", Usage: "store plain objects without DeltaGlider metadata (as aws s3 cp would)"},
	}
}

func readPutOpts(c *cli.Context) (putOpts, error) {
	o := putOpts{noDelta: c.Bool("no-delta"), plain: c.Bool("plain"), maxRatio: c.Float64("max-ratio")}
	if c.IsSet("max-ratio") && !(o.maxRatio > 0 && o.maxRatio <= 1) {
		return o, usageErrorf("--max-ratio %v: want a number in (0, 1]", o.maxRatio)
	}
	return o, nil
}

func cpCommand(e *env) *cli.Command {
	flags := append(backendFlags(), jsonFlag(),
		&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "copy a directory or a prefix"})
	flags = append(append(flags, writeFlags()...), filterFlags()...)
	return &cli.Command{
		Name:      "cp",
		Usage:     "copy files to, from and between buckets (delta-compressed on the way in)",
		ArgsUsage: "SRC DST",
		Description: "SRC and DST are local paths, - (stdin/stdout) or s3://BUCKET/KEY. A DST ending in /\n" +
			"receives the source's base name. Uploads are stored as deltas against their\n" +
			"deltaspace's reference when that pays off; downloads are checked against the\n" +
			"SHA-256 recorded at upload and appear only when complete.\n\n" +
			"Examples:\n" +
			"  deltaglider cp app-1.2.0.zip s3://releases/app/\n" +
			"  deltaglider cp -r ./dist s3://releases/app/ --exclude '*' --include '*.zip'\n" +
			"  deltaglider --store-dir ~/dg cp s3://releases/app/app-1.2.0.zip ./",
		Flags:  flags,
		Action: withSession(e, runCp),
	}
}

func runCp(s *session) error {
	c := s.c
	if c.NArg() != 2 {
		return usageErrorf("cp needs SRC and DST (see `deltaglider cp --help`)")
	}
	src, err := parseLocation(c.Args().Get(0))
	if err != nil {
		return err
	}
	dst, err := parseLocation(c.Args().Get(1))
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
	if !src.s3 && !dst.s3 {
		return usageErrorf("cp: one of SRC and DST must be s3://BUCKET/KEY")
	}
	if c.Bool("recursive") {
		if src.stdio() || dst.stdio() {
			return usageErrorf("cp -r cannot read from stdin or write to stdout")
		}
		return s.cpRecursive(src, dst, o, f)
	}
	return s.cpOne(src, dst, o)
}

func (s *session) cpOne(src, dst location, o putOpts) error {
	ctx := s.ctx
	switch {
	case !src.s3: // upload
		if !src.stdio() {
			fi, err := os.Stat(src.path)
			if err != nil {
				return wrapOp(src.path, err)
			}
			if fi.IsDir() {
				return usageErrorf("%s is a directory; use cp -r", src.path)
			}
		}
		key := dst.key
		if key == "" || strings.HasSuffix(key, "/") {
			if src.stdio() {
				return usageErrorf("cp from stdin needs a full destination key, not %s", dst)
			}
			key += filepath.Base(src.path)
		}
		total := int64(-1)
		if fi, err := os.Stat(src.path); err == nil && !src.stdio() {
			total = fi.Size()
		}
		s.rep.startBar("upload", total, true)
		info, err := s.upload(ctx, src.path, dst.bucket, key, o)
		s.rep.finishBar()
		to := location{s3: true, bucket: dst.bucket, key: key}
		if err != nil {
			return wrapOp(to.String(), err)
		}
		s.reportTransfer("upload", src.path, to.String(), info, false)
	case !dst.s3: // download
		if src.key == "" || strings.HasSuffix(src.key, "/") {
			return usageErrorf("%s is a prefix; use cp -r", src)
		}
		local := dst.path
		if !dst.stdio() {
			if fi, err := os.Stat(local); (err == nil && fi.IsDir()) || strings.HasSuffix(local, string(filepath.Separator)) {
				local = filepath.Join(local, path.Base(src.key))
			}
		}
		s.rep.startBar("download", s.sizeForBar(src.bucket, src.key), true)
		info, err := s.download(ctx, src.bucket, src.key, local)
		s.rep.finishBar()
		if err != nil {
			return wrapOp(src.String(), err)
		}
		if !dst.stdio() {
			s.reportTransfer("download", src.String(), local, info, false)
		}
	default: // copy
		if src.key == "" || strings.HasSuffix(src.key, "/") {
			return usageErrorf("%s is a prefix; use cp -r", src)
		}
		key := dst.key
		if key == "" || strings.HasSuffix(key, "/") {
			key += path.Base(src.key)
		}
		to := location{s3: true, bucket: dst.bucket, key: key}
		s.rep.startBar("copy", s.sizeForBar(src.bucket, src.key), true)
		info, err := s.copyObject(ctx, src.bucket, src.key, dst.bucket, key, o)
		s.rep.finishBar()
		if err != nil {
			return wrapOp(src.String(), err)
		}
		s.reportTransfer("copy", src.String(), to.String(), info, false)
	}
	return nil
}

// sizeForBar returns the original size of an object for a progress bar's
// total (so that it shows an ETA), or -1. It asks the store only when a bar
// is drawn.
func (s *session) sizeForBar(bucket, key string) int64 {
	if !s.rep.tty {
		return -1
	}
	info, err := s.dc.Stat(s.ctx, bucket, key)
	if err != nil || info.Size < 0 {
		return -1
	}
	return info.Size
}

// tally accumulates the totals of a recursive command.
type tally struct {
	objects, original, stored atomic.Int64
}

func (t *tally) add(info delta.Info) {
	t.objects.Add(1)
	t.original.Add(info.Size)
	t.stored.Add(info.StoredSize)
	if info.CreatedReference {
		t.stored.Add(info.Size) // the new reference.bin
	}
}

func (s *session) summarize(cmd string, t *tally, failed int, skipped, deleted int64, dry bool) {
	rec := summaryRecord{Type: "summary", Command: cmd, Objects: t.objects.Load(), Failed: failed,
		Skipped: skipped, Deleted: deleted, OriginalBytes: t.original.Load(), StoredBytes: t.stored.Load(), DryRun: dry}
	s.rep.record(rec)
	line := cmd + ": " + plural(rec.Objects, "object") + ", " + humanBytes(rec.OriginalBytes)
	if cmd == "rm" {
		line = cmd + ": " + plural(rec.Objects, "object") + " deleted"
	}
	if rec.StoredBytes > 0 {
		line += " (" + humanBytes(rec.StoredBytes) + " stored, " + percent(savings(rec.OriginalBytes, rec.StoredBytes)) + " saved)"
	}
	if skipped > 0 {
		line += ", " + plural(skipped, "unchanged") + " skipped"
	}
	if deleted > 0 {
		line += ", " + plural(deleted, "deleted")
	}
	if failed > 0 {
		line += ", " + plural(int64(failed), "failure")
	}
	if dry {
		line = "(dryrun) " + line
	}
	s.rep.linef("%s", line)
}

func plural(n int64, word string) string {
	if n == 1 || strings.HasSuffix(word, "ed") {
		return formatInt(n) + " " + word
	}
	return formatInt(n) + " " + word + "s"
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func (s *session) cpRecursive(src, dst location, o putOpts, f filters) error {
	ctx := s.ctx
	var t tally
	p := newPool(ctx, s.jobs)
	var walkErr error
	switch {
	case !src.s3: // upload a directory
		fi, err := os.Stat(src.path)
		if err != nil {
			return wrapOp(src.path, err)
		}
		if !fi.IsDir() {
			return usageErrorf("cp -r: %s is not a directory", src.path)
		}
		files, err := walkLocal(src.path, f)
		if err != nil {
			return wrapOp(src.path, err)
		}
		var total int64
		for _, lf := range files {
			total += lf.size
		}
		s.rep.startBar("upload", total, true)
		prefix := dirPrefix(dst.key)
		sd := newSeeder()
		for _, lf := range files {
			to := location{s3: true, bucket: dst.bucket, key: prefix + lf.rel}
			if err := p.submit(sd.wrap(to.key, func() {
				info, err := s.upload(ctx, lf.path, dst.bucket, to.key, o)
				if err != nil {
					s.itemFailed(p, "upload", lf.path, err)
					return
				}
				t.add(info)
				s.reportTransfer("upload", lf.path, to.String(), info, false)
			})); err != nil {
				walkErr = err
				break
			}
		}
	default: // from a prefix: download or copy
		prefix := dirPrefix(src.key)
		if !dst.s3 {
			if err := os.MkdirAll(dst.path, 0o755); err != nil {
				return wrapOp(dst.path, err)
			}
		}
		s.rep.startBar(map[bool]string{true: "copy", false: "download"}[dst.s3], -1, true)
		sd := newSeeder()
		walkErr = s.dc.List(ctx, src.bucket, delta.ListOptions{Prefix: prefix, StoredSizes: true}, func(le delta.ListEntry) error {
			if le.IsPrefix {
				return nil
			}
			rel := strings.TrimPrefix(le.Key, prefix)
			if !f.keep(rel) {
				return nil
			}
			from := location{s3: true, bucket: src.bucket, key: le.Key}
			if dst.s3 {
				to := location{s3: true, bucket: dst.bucket, key: dirPrefix(dst.key) + rel}
				return p.submit(sd.wrap(to.key, func() {
					info, err := s.copyObject(ctx, src.bucket, le.Key, dst.bucket, to.key, o)
					if err != nil {
						s.itemFailed(p, "copy", from.String(), err)
						return
					}
					t.add(info)
					s.reportTransfer("copy", from.String(), to.String(), info, false)
				}))
			}
			local, err := localPathFor(dst.path, rel)
			if err != nil {
				s.rep.warnf("%v", err)
				p.fail()
				return nil
			}
			return p.submit(func() {
				info, err := s.download(ctx, src.bucket, le.Key, local)
				if err != nil {
					s.itemFailed(p, "download", from.String(), err)
					return
				}
				info.StoredSize = 0
				t.add(info)
				s.reportTransfer("download", from.String(), local, info, false)
			})
		})
	}
	p.wait()
	s.rep.finishBar()
	if walkErr != nil {
		return wrapOp(src.String(), walkErr)
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.summarize("cp", &t, p.failures(), 0, 0, false)
	return summaryError(p.failures(), "transfers")
}
