package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
)

func lsCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "ls",
		Usage:     "list buckets, or the objects under a prefix with their original sizes",
		ArgsUsage: "[s3://BUCKET[/PREFIX]]",
		Description: "Without an argument, lists the buckets. Objects are shown under their own names\n" +
			"with their original (reconstructed) sizes; references and .delta keys are hidden.\n\n" +
			"Examples:\n" +
			"  deltaglider ls\n" +
			"  deltaglider ls -r -h --summarize s3://releases/app/",
		Flags: append(backendFlags(), jsonFlag(),
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "list every object under the prefix"},
			&cli.BoolFlag{Name: "human-readable", Aliases: []string{"H"}, Usage: "sizes in KiB/MiB/GiB (-h also works)"},
			&cli.BoolFlag{Name: "summarize", Usage: "print the number of objects and their total size"},
			&cli.BoolFlag{Name: "stored", Usage: "skip reading delta metadata: faster, deltas show their stored size"},
		),
		Action: withSession(e, runLs),
	}
}

type lsRecord struct {
	Type       string    `json:"type"` // "bucket", "object", "prefix"
	Bucket     string    `json:"bucket,omitempty"`
	Key        string    `json:"key,omitempty"`
	Size       int64     `json:"size,omitempty"`
	StoredSize int64     `json:"stored_size,omitempty"`
	StoredAs   string    `json:"stored_as,omitempty"`
	ModTime    time.Time `json:"mtime,omitzero"`
}

func runLs(s *session) error {
	c := s.c
	human := c.Bool("human-readable")
	size := func(n int64) string {
		if human {
			return humanBytes(n)
		}
		return strconv.FormatInt(n, 10)
	}
	if c.NArg() == 0 {
		buckets, err := s.st.ListBuckets(s.ctx)
		if err != nil {
			return err
		}
		for _, b := range buckets {
			s.rep.record(lsRecord{Type: "bucket", Bucket: b})
			s.rep.linef("%s", "s3://"+b)
		}
		return nil
	}
	if c.NArg() > 1 {
		return usageErrorf("ls takes one s3://BUCKET[/PREFIX]")
	}
	loc, err := bucketArg(c.Args().First())
	if err != nil {
		return err
	}
	opts := delta.ListOptions{Prefix: loc.key, StoredSizes: c.Bool("stored")}
	base := ""
	if !c.Bool("recursive") {
		opts.Delimiter = "/"
		if i := strings.LastIndexByte(loc.key, '/'); i >= 0 {
			base = loc.key[:i+1]
		}
	}
	var count, total int64
	show := func(le delta.ListEntry) {
		name := strings.TrimPrefix(le.Key, base)
		if le.IsPrefix {
			s.rep.record(lsRecord{Type: "prefix", Bucket: loc.bucket, Key: le.Key})
			s.rep.linef("%30s %s", "PRE", name)
			return
		}
		sz := le.Size
		if sz < 0 {
			sz = le.StoredSize
		}
		count++
		total += sz
		s.rep.record(lsRecord{Type: "object", Bucket: loc.bucket, Key: le.Key, Size: sz, StoredSize: le.StoredSize,
			StoredAs: le.StoredAs.String(), ModTime: le.ModTime.UTC()})
		s.rep.linef("%s %10s %s", le.ModTime.Local().Format("2006-01-02 15:04:05"), size(sz), name)
	}
	// Original sizes of deltas come from their metadata: the listing is
	// taken in batches whose lookups run --jobs at a time, and printed in
	// order (bounded memory, no per-object round trip in series).
	stored := opts.StoredSizes
	opts.StoredSizes = true
	var batch []delta.ListEntry
	flush := func() error {
		if !stored {
			s.fillOriginalSizes(loc.bucket, batch)
		}
		for _, le := range batch {
			show(le)
		}
		batch = batch[:0]
		return s.ctx.Err()
	}
	s.rep.startBar("listing", -1, false)
	err = s.dc.List(s.ctx, loc.bucket, opts, func(le delta.ListEntry) error {
		s.rep.add(1)
		batch = append(batch, le)
		if len(batch) >= 256 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	s.rep.finishBar()
	if err != nil {
		return wrapOp(loc.String(), err)
	}
	if c.Bool("summarize") {
		s.rep.record(struct {
			Type    string `json:"type"`
			Objects int64  `json:"objects"`
			Size    int64  `json:"size"`
		}{"summary", count, total})
		s.rep.linef("\nTotal Objects: %d\n   Total Size: %s", count, size(total))
	}
	return nil
}

// fillOriginalSizes sets Size (and SHA256) of the delta entries from
// their metadata, s.jobs lookups at a time. An entry whose lookup fails
// keeps its stored size (Size -1 is printed as the stored size).
func (s *session) fillOriginalSizes(bucket string, entries []delta.ListEntry) {
	p := newPool(s.ctx, s.jobs)
	for i := range entries {
		e := &entries[i]
		if e.IsPrefix || e.StoredAs != delta.Delta {
			continue
		}
		if p.submit(func() {
			oi, err := s.st.Stat(s.ctx, bucket, e.StoredKey)
			if err != nil {
				return
			}
			if v, ok := metaValue(oi.Metadata, "file-size"); ok {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
					e.Size = n
				}
			}
			if v, ok := metaValue(oi.Metadata, "file-sha256"); ok {
				e.SHA256 = v
			}
		}) != nil {
			break
		}
	}
	p.wait()
}
