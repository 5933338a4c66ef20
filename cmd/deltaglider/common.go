package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/fsstore"
	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
)

// Flags shared by every storage command. They may be given before the
// command name (global) or after it; the innermost setting wins. They are
// built afresh for every app because urfave/cli keeps state in flag values.
func backendFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "store-dir", Usage: "use the embedded filesystem store in `DIR` instead of S3 (env DG_STORE_DIR)"},
		&cli.StringFlag{Name: "endpoint-url", Usage: "S3 endpoint `URL` (env AWS_ENDPOINT_URL); path-style addressing is used"},
		&cli.StringFlag{Name: "profile", Usage: "AWS shared config `PROFILE` (env AWS_PROFILE)"},
		&cli.StringFlag{Name: "region", Usage: "AWS `REGION` (env AWS_REGION)"},
		&cli.StringFlag{Name: "cache-dir", Usage: "reference cache `DIR` (env DG_CACHE_DIR; size cap DG_CACHE_SIZE_MB)"},
		&cli.BoolFlag{Name: "no-cache", Usage: "keep no reference cache between operations"},
		&cli.StringFlag{Name: "codec", Usage: "delta codec for new uploads: `auto` (bsdiff for executables and libraries, VCDIFF for the rest), vcdiff (every delta readable by the Python DeltaGlider and the proxy) or bsdiff (env DG_CODEC)", DefaultText: "auto"},
		&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "`N` parallel transfers (env DG_JOBS)", DefaultText: "number of CPUs, 2..8"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only errors"},
		&cli.BoolFlag{Name: "no-progress", Usage: "never draw progress bars"},
		&cli.BoolFlag{Name: "debug", Usage: "print full error details (env DG_LOG_LEVEL=debug)"},
	}
}

func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print machine-readable JSON (one object per line)"}
}

// flagSetAnywhere reports the context in c's lineage (innermost first) in
// which name was given on the command line, or nil.
func flagSetAnywhere(c *cli.Context, name string) *cli.Context {
	for _, x := range c.Lineage() {
		if x == nil {
			continue
		}
		if slices.Contains(x.LocalFlagNames(), name) {
			return x
		}
	}
	return nil
}

// gString returns a string flag from wherever it was set, else the first
// non-empty environment variable of envs.
func gString(c *cli.Context, name string, envs ...string) string {
	if x := flagSetAnywhere(c, name); x != nil {
		return x.String(name)
	}
	for _, e := range envs {
		if v := os.Getenv(e); v != "" {
			return v
		}
	}
	return ""
}

func gBool(c *cli.Context, name string) bool {
	if x := flagSetAnywhere(c, name); x != nil {
		return x.Bool(name)
	}
	return false
}

// jobs returns the parallelism for recursive operations.
func jobs(c *cli.Context) (int, error) {
	if x := flagSetAnywhere(c, "jobs"); x != nil {
		n := x.Int("jobs")
		if n < 1 || n > 256 {
			return 0, usageErrorf("--jobs %d: want 1..256", n)
		}
		return n, nil
	}
	if v := os.Getenv("DG_JOBS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			return 0, usageErrorf("DG_JOBS=%q: want 1..256", v)
		}
		return n, nil
	}
	return min(max(runtime.NumCPU(), 2), 8), nil
}

// location is a command-line operand: an object (s3://bucket/key), a local
// path, or "-" (stdin/stdout).
type location struct {
	s3     bool
	bucket string
	key    string // may be empty or end in "/"
	path   string // local path, or "-"
}

func (l location) String() string {
	if l.s3 {
		return "s3://" + l.bucket + "/" + l.key
	}
	return l.path
}

func (l location) stdio() bool { return !l.s3 && l.path == "-" }

// parseLocation parses an operand. Anything starting with s3:// names an
// object whatever the backend is.
func parseLocation(arg string) (location, error) {
	if rest, ok := strings.CutPrefix(arg, "s3://"); ok {
		b, k, _ := strings.Cut(rest, "/")
		if b == "" {
			return location{}, usageErrorf("%q: missing bucket name (want s3://BUCKET/KEY)", arg)
		}
		return location{s3: true, bucket: b, key: k}, nil
	}
	if arg == "" {
		return location{}, usageErrorf("empty path")
	}
	return location{path: arg}, nil
}

// bucketArg accepts "s3://bucket[/prefix]" or a bare "bucket[/prefix]".
func bucketArg(arg string) (location, error) {
	if !strings.HasPrefix(arg, "s3://") {
		arg = "s3://" + arg
	}
	return parseLocation(arg)
}

// dirPrefix turns a key into a "directory" prefix: "" stays "", others end in "/".
func dirPrefix(key string) string {
	if key == "" || strings.HasSuffix(key, "/") {
		return key
	}
	return key + "/"
}

// session is what one invocation of a storage command works with.
type session struct {
	c     *cli.Context
	e     *env
	ctx   context.Context
	st    store.Store
	fs    *fsstore.Store // the embedded store, when used
	dc    *delta.Client
	rep   *reporter
	jobs  int
	where string // human description of the backend
}

// openSession connects to the backend the flags select and builds the
// delta client. The caller must call close.
func openSession(c *cli.Context, e *env) (*session, error) {
	n, err := jobs(c)
	if err != nil {
		return nil, err
	}
	s := &session{c: c, e: e, ctx: c.Context, jobs: n}
	s.rep = newReporter(e, gBool(c, "quiet"), gBool(c, "json"), gBool(c, "no-progress"))
	if dir := gString(c, "store-dir", "DG_STORE_DIR"); dir != "" {
		fs, err := fsstore.New(dir)
		if err != nil {
			return nil, fmt.Errorf("opening the store directory %s: %w", dir, err)
		}
		s.st, s.fs, s.where = fs, fs, "store dir "+dir
	} else {
		endpoint := gString(c, "endpoint-url", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
		cfg := s3store.Config{
			Endpoint:     endpoint,
			Region:       gString(c, "region"),
			Profile:      gString(c, "profile"),
			UsePathStyle: endpoint != "",
		}
		st, _, err := s3store.NewFromConfig(s.ctx, cfg, s3store.WithConcurrency(min(n, 4)))
		if err != nil {
			return nil, err
		}
		s.st, s.where = st, "S3"
		if endpoint != "" {
			s.where = "S3 at " + endpoint
		}
	}
	var opts []delta.Option
	opts = append(opts, delta.WithConcurrency(n))
	if codec := gString(c, "codec", "DG_CODEC"); codec != "" {
		opts = append(opts, delta.WithCodec(codec))
	}
	switch {
	case gBool(c, "no-cache"):
		opts = append(opts, delta.WithoutCache())
	case gString(c, "cache-dir") != "":
		max, err := delta.DefaultCacheMaxBytes()
		if err != nil {
			s.close()
			return nil, settingError(err)
		}
		cache, err := delta.NewCache(gString(c, "cache-dir"), max)
		if err != nil {
			s.close()
			return nil, err
		}
		opts = append(opts, delta.WithCache(cache))
	}
	dc, err := delta.New(s.st, opts...)
	if err != nil {
		s.close()
		if errors.Is(err, delta.ErrUnknownCodec) {
			return nil, usageErrorf("unknown delta codec %q: want auto, vcdiff or bsdiff (--codec or DG_CODEC)",
				gString(c, "codec", "DG_CODEC"))
		}
		if errors.Is(err, delta.ErrInvalidOption) {
			return nil, settingError(err)
		}
		return nil, err
	}
	s.dc = dc
	return s, nil
}

// settingError turns the delta package's complaint about a setting (an
// environment variable such as DG_MAX_RATIO or DG_CACHE_SIZE_MB) into a
// usage error that names the setting and what it wants.
func settingError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "delta: ")
	msg = strings.TrimPrefix(msg, "invalid option: ")
	if strings.HasPrefix(msg, "DG_CACHE_SIZE_MB=") && !strings.Contains(msg, "want") {
		msg += " (want the cache size cap in MiB, e.g. 1024, or unset it)"
	}
	return usageError{"invalid setting " + msg}
}

func (s *session) close() {
	if s.rep != nil {
		s.rep.finishBar()
	}
	if s.dc != nil {
		s.dc.ReleaseSources() // the command is over (tests run many in one process)
	}
	if s.fs != nil {
		s.fs.Close()
	}
}

// withSession runs fn with an open session.
func withSession(e *env, fn func(s *session) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		s, err := openSession(c, e)
		if err != nil {
			return err
		}
		defer s.close()
		return fn(s)
	}
}

// filters are aws-style --include/--exclude globs. A path is excluded when
// it matches an --exclude pattern and no --include pattern, so
// `--exclude '*' --include '*.zip'` keeps only zips. Patterns match the
// path relative to the operation's root (with "/" separators) or its base
// name.
type filters struct{ include, exclude []string }

func newFilters(c *cli.Context) (filters, error) {
	f := filters{include: c.StringSlice("include"), exclude: c.StringSlice("exclude")}
	for _, p := range append(slices.Clone(f.include), f.exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			return f, usageErrorf("bad glob pattern %q: %v", p, err)
		}
	}
	return f, nil
}

func (f filters) match(pats []string, rel string) bool {
	base := path.Base(rel)
	for _, p := range pats {
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
		if ok, _ := path.Match(p, base); ok {
			return true
		}
	}
	return false
}

func (f filters) keep(rel string) bool {
	if f.match(f.include, rel) {
		return true
	}
	return !f.match(f.exclude, rel)
}

func filterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "include", Usage: "keep paths matching `GLOB` even if excluded (repeatable)"},
		&cli.StringSliceFlag{Name: "exclude", Usage: "skip paths matching `GLOB` (repeatable)"},
	}
}

// pool runs tasks on a bounded number of goroutines. Submit blocks while
// all workers are busy, so memory stays bounded however many tasks there
// are.
type pool struct {
	ctx  context.Context
	ch   chan func()
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs int
}

func newPool(ctx context.Context, n int) *pool {
	p := &pool{ctx: ctx, ch: make(chan func())}
	for range n {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for fn := range p.ch {
				fn()
			}
		}()
	}
	return p
}

// submit queues fn; it returns ctx.Err() if the context ends first.
func (p *pool) submit(fn func()) error {
	select {
	case p.ch <- fn:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// wait stops accepting tasks and waits for the running ones.
func (p *pool) wait() {
	close(p.ch)
	p.wg.Wait()
}

func (p *pool) fail() {
	p.mu.Lock()
	p.errs++
	p.mu.Unlock()
}

func (p *pool) failures() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errs
}

// itemFailed reports one failed item of a recursive command and counts it.
// Once the command is interrupted, the items aborted by it are not
// reported one by one: the command ends with a single "interrupted" line.
func (s *session) itemFailed(p *pool, op, what string, err error) {
	p.fail()
	if s.ctx.Err() != nil {
		return
	}
	s.rep.warnf("%s failed: %s", op, friendly(wrapOp(what, err)))
}

// humanBytes formats n with binary units.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// percent formats a savings fraction.
func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func savings(original, stored int64) float64 {
	if original <= 0 {
		return 0
	}
	return 1 - float64(stored)/float64(original)
}

// metaValue looks up a DeltaGlider metadata field under any of its four
// historical spellings (dg-file-size, dg_file_size, file_size, file-size).
func metaValue(md map[string]string, field string) (string, bool) {
	under := strings.ReplaceAll(field, "-", "_")
	for _, k := range []string{"dg-" + field, "dg_" + under, under, field} {
		if v, ok := md[k]; ok {
			return v, true
		}
	}
	return "", false
}

// summaryError reports that some items of a recursive operation failed.
func summaryError(failed int, what string) error {
	if failed == 0 {
		return nil
	}
	return fmt.Errorf("%d %s failed (see the messages above); rerun the command to retry them", failed, what)
}

// seeder makes recursive writes deterministic: the first delta-eligible
// object written into each deltaspace (in listing or walk order) finishes
// before the others of that deltaspace start, so it, and not whichever
// parallel upload wins the race, becomes the deltaspace's reference.
type seeder struct {
	mu     sync.Mutex
	spaces map[string]chan struct{}
}

func newSeeder() *seeder { return &seeder{spaces: map[string]chan struct{}{}} }

// wrap returns fn ordered for the object key.
func (sd *seeder) wrap(key string, fn func()) func() {
	if !delta.EligibleByName(path.Base(key)) {
		return fn
	}
	space := path.Dir(key)
	sd.mu.Lock()
	ch, seen := sd.spaces[space]
	if !seen {
		ch = make(chan struct{})
		sd.spaces[space] = ch
	}
	sd.mu.Unlock()
	if !seen {
		return func() {
			defer close(ch)
			fn()
		}
	}
	return func() {
		<-ch
		fn()
	}
}
