package main

import (
	"strings"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
)

func verifyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "reconstruct objects and check them against their recorded SHA-256",
		ArgsUsage: "s3://BUCKET/KEY | s3://BUCKET/PREFIX/ | --all s3://BUCKET",
		Description: "Reads every selected object in full (deltas are decoded against their reference)\n" +
			"without writing it anywhere. Objects stored whole are checked too; plain objects\n" +
			"(no DeltaGlider metadata) have no recorded checksum and are only read.\n" +
			"Exits 1 if any object fails.\n\n" +
			"Examples:\n" +
			"  deltaglider verify s3://releases/app/app-1.2.0.zip\n" +
			"  deltaglider verify --all s3://releases",
		Flags: append(backendFlags(), jsonFlag(),
			&cli.BoolFlag{Name: "all", Usage: "verify every object in the bucket"},
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "treat the key as a prefix"},
		),
		Action: withSession(e, runVerify),
	}
}

type verifyRecord struct {
	Type     string `json:"type"` // "verify"
	Object   string `json:"object"`
	Status   string `json:"status"` // "ok", "unchecked" (plain object), "failed"
	StoredAs string `json:"stored_as,omitempty"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256,omitempty"`
	Error    string `json:"error,omitempty"`
}

// verifyOne verifies one object and reports it; a failure is returned,
// and also printed when warn is set (recursive runs go on after one).
func (s *session) verifyOne(bucket, key string, warn bool) error {
	obj := "s3://" + bucket + "/" + key
	info, err := s.dc.Verify(s.ctx, bucket, key, s.rep.byteProgress())
	rec := verifyRecord{Type: "verify", Object: obj, StoredAs: info.StoredAs.String(), Size: info.Size, SHA256: info.SHA256}
	switch {
	case err != nil:
		rec.Status, rec.Error = "failed", friendly(err)
		s.rep.record(rec)
		if warn && s.ctx.Err() == nil {
			s.rep.warnf("FAILED %s: %s", obj, rec.Error)
		}
		return wrapOp(obj, err)
	case info.StoredAs == delta.Plain:
		rec.Status = "unchecked"
		s.rep.linef("readable %s (%s, plain object: no recorded checksum)", obj, humanBytes(info.Size))
	default:
		rec.Status = "ok"
		s.rep.linef("OK %s (%s, %s, sha256 %s)", obj, info.StoredAs, humanBytes(info.Size), short(info.SHA256))
	}
	s.rep.record(rec)
	return nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12] + "…"
	}
	return sha
}

func runVerify(s *session) error {
	c := s.c
	if c.NArg() != 1 {
		return usageErrorf("verify takes one s3://BUCKET/KEY (or a prefix ending in /, or --all s3://BUCKET)")
	}
	loc, err := bucketArg(c.Args().First())
	if err != nil {
		return err
	}
	prefix := loc.key
	switch {
	case c.Bool("all"):
		prefix = ""
	case c.Bool("recursive"):
		prefix = dirPrefix(loc.key)
	case loc.key == "" || strings.HasSuffix(loc.key, "/"):
	default:
		s.rep.startBar("verify", -1, true)
		err := s.verifyOne(loc.bucket, loc.key, false)
		s.rep.finishBar()
		return err
	}
	var n, failed atomic.Int64
	p := newPool(s.ctx, s.jobs)
	s.rep.startBar("verify", -1, true)
	err = s.dc.List(s.ctx, loc.bucket, delta.ListOptions{Prefix: prefix, StoredSizes: true}, func(le delta.ListEntry) error {
		if le.IsPrefix {
			return nil
		}
		return p.submit(func() {
			n.Add(1)
			if s.verifyOne(loc.bucket, le.Key, true) != nil {
				failed.Add(1)
			}
		})
	})
	p.wait()
	s.rep.finishBar()
	if err != nil {
		return wrapOp(loc.String(), err)
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.rep.record(summaryRecord{Type: "summary", Command: "verify", Objects: n.Load(), Failed: int(failed.Load())})
	s.rep.linef("verify: %s checked, %s failed", plural(n.Load(), "object"), formatInt(failed.Load()))
	return summaryError(int(failed.Load()), "verifications")
}
