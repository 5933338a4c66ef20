package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

func syncCommand(e *env) *cli.Command {
	flags := append(backendFlags(), jsonFlag(),
		&cli.BoolFlag{Name: "delete", Usage: "delete destination objects or files that the source lacks"},
		&cli.BoolFlag{Name: "dryrun", Aliases: []string{"dry-run"}, Usage: "only print what would be done"},
		&cli.BoolFlag{Name: "size-only", Usage: "compare sizes only, not SHA-256"},
	)
	flags = append(append(flags, writeFlags()...), filterFlags()...)
	return &cli.Command{
		Name:      "sync",
		Usage:     "make a prefix match a local directory, or a local directory match a prefix",
		ArgsUsage: "SRC DST",
		Description: "One side is a local directory, the other s3://BUCKET/PREFIX/. A file is copied when\n" +
			"the other side lacks it, its size differs, or its SHA-256 differs from the one\n" +
			"recorded in the object's metadata (mtime decides only for plain objects, which\n" +
			"record none). Excluded paths are neither copied nor deleted.\n\n" +
			"Examples:\n" +
			"  deltaglider sync ./dist s3://releases/app/ --exclude '*.tmp'\n" +
			"  deltaglider sync --delete s3://releases/app/ ./mirror",
		Flags:  flags,
		Action: withSession(e, runSync),
	}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// needsCopy decides whether the local file and the object differ.
// srcLocal says which side is the source (for the mtime rule).
func (s *session) needsCopy(bucket, key, local string, sizeOnly, srcLocal bool) (bool, error) {
	info, err := s.dc.Stat(s.ctx, bucket, key)
	if errors.Is(err, store.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(local)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if fi.Size() != info.Size {
		return true, nil
	}
	if sizeOnly {
		return false, nil
	}
	if info.SHA256 != "" {
		sum, err := fileSHA256(local)
		if err != nil {
			return false, err
		}
		return sum != info.SHA256, nil
	}
	if srcLocal {
		return fi.ModTime().After(info.ModTime), nil
	}
	return info.ModTime.After(fi.ModTime()), nil
}

func runSync(s *session) error {
	c := s.c
	if c.NArg() != 2 {
		return usageErrorf("sync needs SRC and DST (see `deltaglider sync --help`)")
	}
	src, err := parseLocation(c.Args().Get(0))
	if err != nil {
		return err
	}
	dst, err := parseLocation(c.Args().Get(1))
	if err != nil {
		return err
	}
	if src.s3 == dst.s3 || src.stdio() || dst.stdio() {
		return usageErrorf("sync needs one local directory and one s3://BUCKET/PREFIX (use migrate between buckets)")
	}
	o, err := readPutOpts(c)
	if err != nil {
		return err
	}
	f, err := newFilters(c)
	if err != nil {
		return err
	}
	dry, del, sizeOnly := c.Bool("dryrun"), c.Bool("delete"), c.Bool("size-only")
	ctx := s.ctx
	var t tally
	var skipped, deleted atomic.Int64
	p := newPool(ctx, s.jobs)
	var walkErr error
	if !src.s3 {
		// local -> store
		fi, err := os.Stat(src.path)
		if err != nil {
			return wrapOp(src.path, err)
		}
		if !fi.IsDir() {
			return usageErrorf("sync: %s is not a directory", src.path)
		}
		files, err := walkLocal(src.path, f)
		if err != nil {
			return wrapOp(src.path, err)
		}
		prefix := dirPrefix(dst.key)
		var total int64
		for _, lf := range files {
			total += lf.size
		}
		// One listing of the destination: new files need no lookups, and
		// --delete needs the keys anyway.
		remote := map[string]bool{}
		err = s.dc.List(ctx, dst.bucket, delta.ListOptions{Prefix: prefix, StoredSizes: true}, func(le delta.ListEntry) error {
			if !le.IsPrefix {
				remote[strings.TrimPrefix(le.Key, prefix)] = true
			}
			return nil
		})
		if err != nil {
			return wrapOp(dst.String(), err)
		}
		s.rep.startBar("sync", total, true)
		sd := newSeeder()
		for _, lf := range files {
			to := location{s3: true, bucket: dst.bucket, key: prefix + lf.rel}
			if err := p.submit(sd.wrap(to.key, func() {
				need := true
				var err error
				if remote[lf.rel] {
					need, err = s.needsCopy(dst.bucket, to.key, lf.path, sizeOnly, true)
				}
				if err != nil {
					s.itemFailed(p, "sync", to.String(), err)
					return
				}
				if !need {
					skipped.Add(1)
					s.rep.add(lf.size)
					return
				}
				if dry {
					t.add(delta.Info{Size: lf.size})
					s.reportTransfer("upload", lf.path, to.String(), delta.Info{Size: lf.size}, true)
					return
				}
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
		p.wait()
		if walkErr == nil && del && ctx.Err() == nil && p.failures() == 0 {
			have := make(map[string]bool, len(files))
			for _, lf := range files {
				have[lf.rel] = true
			}
			refs := map[string]bool{}
			gone := make([]string, 0)
			for rel := range remote {
				if !have[rel] && f.keep(rel) {
					gone = append(gone, rel)
				}
			}
			slices.Sort(gone)
			var mu sync.Mutex
			dp := newPool(ctx, s.jobs)
			for _, rel := range gone {
				k := prefix + rel
				obj := "s3://" + dst.bucket + "/" + k
				if dry {
					deleted.Add(1)
					s.reportTransfer("delete", obj, "", delta.Info{}, true)
					continue
				}
				if walkErr = dp.submit(func() {
					if _, err := s.dc.Delete(ctx, dst.bucket, k); err != nil {
						s.itemFailed(p, "delete", obj, err)
						return
					}
					mu.Lock()
					refs[refKeyOf(k)] = true
					mu.Unlock()
					deleted.Add(1)
					s.reportTransfer("delete", obj, "", delta.Info{}, false)
				}); walkErr != nil {
					break
				}
			}
			dp.wait()
			if walkErr == nil {
				walkErr = s.releaseRefs(ctx, dst.bucket, refs)
			}
		}
	} else {
		// store -> local
		if !dry {
			if err := os.MkdirAll(dst.path, 0o755); err != nil {
				return wrapOp(dst.path, err)
			}
		}
		prefix := dirPrefix(src.key)
		var mu sync.Mutex
		have := map[string]bool{}
		s.rep.startBar("sync", -1, true)
		walkErr = s.dc.List(ctx, src.bucket, delta.ListOptions{Prefix: prefix, StoredSizes: true}, func(le delta.ListEntry) error {
			if le.IsPrefix {
				return nil
			}
			rel := strings.TrimPrefix(le.Key, prefix)
			if !f.keep(rel) {
				return nil
			}
			local, err := localPathFor(dst.path, rel)
			if err != nil {
				s.rep.warnf("%v", err)
				p.fail()
				return nil
			}
			mu.Lock()
			have[filepath.ToSlash(rel)] = true
			mu.Unlock()
			from := location{s3: true, bucket: src.bucket, key: le.Key}
			return p.submit(func() {
				need, err := s.needsCopy(src.bucket, le.Key, local, sizeOnly, false)
				if err != nil {
					s.itemFailed(p, "sync", from.String(), err)
					return
				}
				if !need {
					skipped.Add(1)
					return
				}
				if dry {
					t.objects.Add(1)
					s.reportTransfer("download", from.String(), local, le.Info, true)
					return
				}
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
		p.wait()
		if walkErr == nil && del && ctx.Err() == nil && p.failures() == 0 {
			files, err := walkLocal(dst.path, f)
			if err != nil {
				walkErr = err
			}
			for _, lf := range files {
				if have[lf.rel] {
					continue
				}
				if !dry {
					if err := os.Remove(lf.path); err != nil {
						s.rep.warnf("delete failed: %v", err)
						p.fail()
						continue
					}
				}
				deleted.Add(1)
				s.reportTransfer("delete", lf.path, "", delta.Info{Size: lf.size}, dry)
			}
		}
	}
	s.rep.finishBar()
	if walkErr != nil {
		return wrapOp(src.String(), walkErr)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.summarize("sync", &t, p.failures(), skipped.Load(), deleted.Load(), dry)
	return summaryError(p.failures(), "transfers")
}
