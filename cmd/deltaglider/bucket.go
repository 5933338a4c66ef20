package main

import (
	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/store"
)

func mbCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "mb",
		Usage:     "make a bucket",
		ArgsUsage: "s3://BUCKET",
		Description: "Creates a bucket (a subdirectory of --store-dir on the embedded store).\n\n" +
			"Example:\n" +
			"  deltaglider --store-dir ~/dg mb s3://releases",
		Flags: append(backendFlags(), jsonFlag()),
		Action: withSession(e, func(s *session) error {
			if s.c.NArg() != 1 {
				return usageErrorf("mb takes one s3://BUCKET")
			}
			loc, err := bucketArg(s.c.Args().First())
			if err != nil {
				return err
			}
			if loc.key != "" {
				return usageErrorf("mb: %s names an object; give just s3://BUCKET", loc)
			}
			if err := s.st.CreateBucket(s.ctx, loc.bucket); err != nil {
				return wrapOp("s3://"+loc.bucket, err)
			}
			s.rep.record(map[string]string{"type": "make_bucket", "bucket": loc.bucket})
			s.rep.linef("make_bucket: s3://%s", loc.bucket)
			return nil
		}),
	}
}

func rbCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "rb",
		Usage:     "remove a bucket",
		ArgsUsage: "s3://BUCKET",
		Description: "Removes an empty bucket; with --force, deletes its objects first.\n\n" +
			"Example:\n" +
			"  deltaglider rb --force s3://scratch",
		Flags: append(backendFlags(), jsonFlag(),
			&cli.BoolFlag{Name: "force", Usage: "delete every object in the bucket first"}),
		Action: withSession(e, func(s *session) error {
			if s.c.NArg() != 1 {
				return usageErrorf("rb takes one s3://BUCKET")
			}
			loc, err := bucketArg(s.c.Args().First())
			if err != nil {
				return err
			}
			if loc.key != "" {
				return usageErrorf("rb: %s names an object; give just s3://BUCKET", loc)
			}
			if s.c.Bool("force") {
				if _, err := s.dc.DeleteRecursive(s.ctx, loc.bucket, "", nil); err != nil {
					return wrapOp("s3://"+loc.bucket, err)
				}
				// DeltaGlider's own bookkeeping goes too.
				var keys []string
				err := s.st.List(s.ctx, loc.bucket, store.ListOptions{}, func(e store.Entry) error {
					keys = append(keys, e.Key)
					if len(keys) == 1000 {
						err := s.st.DeleteMany(s.ctx, loc.bucket, keys)
						keys = keys[:0]
						return err
					}
					return nil
				})
				if err == nil && len(keys) > 0 {
					err = s.st.DeleteMany(s.ctx, loc.bucket, keys)
				}
				if err != nil {
					return wrapOp("s3://"+loc.bucket, err)
				}
			}
			if err := s.st.DeleteBucket(s.ctx, loc.bucket); err != nil {
				return wrapOp("s3://"+loc.bucket, err)
			}
			s.rep.record(map[string]string{"type": "remove_bucket", "bucket": loc.bucket})
			s.rep.linef("remove_bucket: s3://%s", loc.bucket)
			return nil
		}),
	}
}
