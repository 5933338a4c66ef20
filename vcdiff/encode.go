package vcdiff

import (
	"errors"
	"fmt"
	"io"
	"runtime"
)

// maxAppHeader bounds the application header the encoder writes.
const maxAppHeader = 64 << 10

// maxEncodeSource bounds the source size accepted by the encoder, which
// holds the whole source in memory.
const maxEncodeSource = 1 << 40

// EncoderOption configures an Encoder. Options are validated when the
// encoder is created.
type EncoderOption func(*encoderOptions) error

type encoderOptions struct {
	level       int
	windowSize  int
	checksum    bool
	appHeader   []byte
	concurrency int
	targetSize  int64 // expected target size, 0 if unknown (WithTargetSize)
	secondary   int   // secondary compression the patch will get (WithSecondaryHint)
}

func defaultEncoderOptions() encoderOptions {
	return encoderOptions{
		level:       DefaultLevel,
		windowSize:  DefaultWindowSize,
		checksum:    true,
		concurrency: runtime.GOMAXPROCS(0),
	}
}

// WithLevel sets the compression level, from MinLevel (0, fastest) to
// BestLevel (9, smallest patches). The default is DefaultLevel (6).
//
// The level sets the source sampling step, which fixes the index memory
// (4 bytes per sampled source position): step 16 at levels 0-1 (0.25 x the
// source size), 12 at 2, 8 at 3-6 (0.5 x), 4 at 7-8 (1 x), 2 at 9 (2 x).
func WithLevel(l int) EncoderOption {
	return func(o *encoderOptions) error {
		if l < MinLevel || l > BestLevel {
			return fmt.Errorf("%w: level %d (want %d..%d)", ErrInvalidOption, l, MinLevel, BestLevel)
		}
		o.level = l
		return nil
	}
}

// WithWindowSize sets the target window size: the target is cut into
// windows of n bytes (the last may be shorter), each encoded independently.
// The default is DefaultWindowSize (8 MiB); the maximum is MaxWindowSize
// (16 MiB), the largest window stock xdelta3 3.0.x decodes.
func WithWindowSize(n int) EncoderOption {
	return func(o *encoderOptions) error {
		if n < 1 || n > MaxWindowSize {
			return fmt.Errorf("%w: window size %d (want 1..%d)", ErrInvalidOption, n, MaxWindowSize)
		}
		o.windowSize = n
		return nil
	}
}

// WithChecksum sets whether each window carries the Adler-32 of its target
// bytes (the xdelta3 extension; on by default).
func WithChecksum(on bool) EncoderOption {
	return func(o *encoderOptions) error {
		o.checksum = on
		return nil
	}
}

// WithAppHeader sets the xdelta3 application header written in the file
// header (none by default; empty means none). Stock xdelta3 -d takes file
// names from it when none are given, so prefer leaving it out.
func WithAppHeader(h []byte) EncoderOption {
	return func(o *encoderOptions) error {
		if len(h) > maxAppHeader {
			return fmt.Errorf("%w: application header of %d bytes (max %d)", ErrInvalidOption, len(h), maxAppHeader)
		}
		o.appHeader = append([]byte(nil), h...)
		return nil
	}
}

// WithTargetSize tells the streaming encoder how many target bytes to
// expect, when that is known (a regular file's size, say): each window
// buffer is then allocated at its final size at once, not grown from
// 64 KiB by copying. It is a hint only: any number of bytes may be written
// (and it stays set across Reset).
func WithTargetSize(n int64) EncoderOption {
	return func(o *encoderOptions) error {
		if n < 0 {
			return fmt.Errorf("%w: target size %d", ErrInvalidOption, n)
		}
		o.targetSize = n
		return nil
	}
}

// WithSecondaryHint tells the encoder which secondary compression its
// patch will be given afterwards (by a Recoder it writes to, or by Recode):
// SecondaryNone (the default), SecondaryDJW or SecondaryLZMA. The patch stays
// a valid uncompressed VCDIFF either way; the hint only steers choices that
// leave the raw patch a little larger but compress better.
//
// With SecondaryLZMA each window's COPY addresses are written in one of
// two ways, whichever makes the instruction and address sections smaller
// after a fast deflate (a cheap stand-in for LZMA): every address in its
// cheapest mode (the smallest raw patch), or every one in HERE mode (its
// distance back from the current position). Where the target keeps one
// alignment to the source for many copies in a row, as in a new build of
// an executable whose code moved, the HERE values repeat and LZMA stores
// them almost for free; so the parse also counts the address of a source
// COPY that keeps the previous one's alignment as free, and takes more of
// the short copies between changed bytes. In windows of low byte entropy
// (text, SQL) the parse instead asks more of a COPY before taking it
// (see matcher.minValue): LZMA stores those bytes well as ADDs. Together,
// on the corpus at the default level: about 17 % smaller LZMA patches on
// the esbuild binaries, 14 % on the SQL dumps and 11 % on the typescript
// tars, and no change on zips and compressed tarballs
// (docs/BENCHMARKS.md). DJW, an
// order-0 Huffman coder, does not gain from repeats, so its hint changes
// nothing. The trial costs a second pass over the window's instructions
// and two deflates of its sections.
func WithSecondaryHint(id int) EncoderOption {
	return func(o *encoderOptions) error {
		switch id {
		case SecondaryNone, SecondaryDJW, SecondaryLZMA:
		default:
			return fmt.Errorf("%w: secondary compressor %d (want %d, %d or %d)", ErrInvalidOption, id, SecondaryNone, SecondaryDJW, SecondaryLZMA)
		}
		o.secondary = id
		return nil
	}
}

// WithConcurrency sets how many target windows are encoded in parallel
// (default runtime.GOMAXPROCS(0); 0 means the default). The output is the
// same for every value. Each worker holds one window plus its matcher
// tables (about 2 x the window size plus up to 16 MiB at the best level).
func WithConcurrency(n int) EncoderOption {
	return func(o *encoderOptions) error {
		if n < 0 {
			return fmt.Errorf("%w: concurrency %d", ErrInvalidOption, n)
		}
		if n == 0 {
			n = runtime.GOMAXPROCS(0)
		}
		o.concurrency = n
		return nil
	}
}

// An Encoder writes a VCDIFF patch that turns the source into the target
// bytes written to it. The patch is decodable by stock xdelta3 -d (3.0.x):
// version 0, default code table, VCD_SOURCE windows of at most 16 MiB,
// optional Adler-32 per window, no secondary compression.
//
// The whole source is read into memory once (sourceSize bytes) and indexed
// (see WithLevel for the index size), so COPYs may come from anywhere in the
// source, however far the content moved. The target is cut into windows of
// the window size; each window is matched against the source and against
// its own earlier bytes, its instructions are chosen with the whole window
// known, then it is written. Windows are independent, so several are
// encoded in parallel (WithConcurrency) and written in order; the patch
// bytes do not depend on the concurrency or on how the target is split
// across Write calls.
//
// Memory: the source (sourceSize bytes, read once) + its index (4 bytes per
// sampled position: 0.5 x the source at the default level, see WithLevel)
// + up to concurrency+1 target windows + per worker the matcher tables
// (1 MiB head table and 1 MiB chain ring at the default level, 16+4 MiB at
// level 9) and the window's sections and output (each at most about the
// window size, usually far less). For a 130 MB source and target at the
// default level with 2 workers that is 130 + 65 + 24 + 2 x (2 + 2 x ~8)
// MB in the worst case; the benchmark (docs/BENCHMARKS.md) measures it.
//
// Levels: every level indexes the whole source at a fixed sampling step and
// probes it at every target position that is not inside a match (skipping
// ahead in long unmatched stretches below level 7); after a source COPY
// ends, a small dense hash of the source around where the copy would
// resume is searched too (levels 3-9); in-window matching uses hash chains
// whose depth grows with the level. Instructions are chosen
// greedily with lazy evaluation, a COPY found late may extend backwards over
// short instructions chosen before it, and the address mode of every COPY
// is the cheapest of the nine (SELF, HERE, four NEAR, three SAME) once the
// window's source segment is known (unless WithSecondaryHint asks for
// addresses that compress better). Secondary compression (xdelta3's LZMA
// or DJW sections) is not written; a later option may add it.
type Encoder struct {
	opts   encoderOptions
	params *levelParams
	dst    io.Writer

	srcBuf []byte // owned copy of the source (streaming API)
	src    []byte
	idx    *sourceIndex // &ownIdx, or a shared Source's
	ownIdx sourceIndex

	buf         []byte // window being filled
	bufSum      uint32 // Adler-32 of buf, kept up as bytes arrive (while they are in the cache)
	nwin        int64  // windows submitted
	wroteHeader bool
	err         error
	closed      bool

	jobs  []*encJob // windows in flight, in target order
	idle  []*windowEncoder
	spare [][]byte // free window buffers
}

type encJob struct {
	w     *windowEncoder
	tgt   []byte
	owned bool    // tgt came from the encoder's buffer pool
	sum   *uint32 // tgt's Adler-32, taken as it arrived (nil: encode computes it)
	out   []byte
	done  chan struct{}
}

// NewEncoder returns an Encoder writing a patch to dst. source may be nil
// (or sourceSize 0) for plain compression of the target. sourceSize bytes
// are read from source at offset 0 before NewEncoder returns.
func NewEncoder(dst io.Writer, source io.ReaderAt, sourceSize int64, opts ...EncoderOption) (*Encoder, error) {
	e, err := newEncoder(opts)
	if err != nil {
		return nil, err
	}
	if err := e.Reset(dst, source, sourceSize); err != nil {
		return nil, err
	}
	return e, nil
}

func newEncoder(opts []EncoderOption) (*Encoder, error) {
	o := defaultEncoderOptions()
	for _, f := range opts {
		if f == nil {
			continue
		}
		if err := f(&o); err != nil {
			return nil, err
		}
	}
	return &Encoder{opts: o, params: &levelTable[o.level], bufSum: 1}, nil
}

// Reset discards the encoder's state (including unwritten output) and
// starts a new patch to dst against a new source, keeping the options and
// reusing buffers.
func (e *Encoder) Reset(dst io.Writer, source io.ReaderAt, sourceSize int64) error {
	e.drain(false)
	e.dst = dst
	e.buf, e.bufSum = e.buf[:0], 1
	e.nwin = 0
	e.wroteHeader = false
	e.err = nil
	e.closed = false
	sourceSize, err := checkSourceSize(source, sourceSize)
	if err != nil {
		return err
	}
	if e.srcBuf, err = readSource(e.srcBuf, source, sourceSize); err != nil {
		e.err = err
		return e.err
	}
	return e.setSource(e.srcBuf)
}

// checkSourceSize validates the size of a source the encoder is to hold
// in memory and returns it (0 for a nil source).
func checkSourceSize(source io.ReaderAt, size int64) (int64, error) {
	if size < 0 {
		return 0, fmt.Errorf("%w: negative source size %d", ErrInvalidOption, size)
	}
	if source == nil {
		size = 0
	}
	if size > maxEncodeSource || int64(int(size)) != size {
		return 0, fmt.Errorf("%w: source of %d bytes (the encoder holds the source in memory; max %d)",
			ErrLimit, size, int64(maxEncodeSource))
	}
	return size, nil
}

// readSource reads size bytes of source from offset 0 into buf, reused
// when it is big enough, else into a new huge-page buffer.
func readSource(buf []byte, source io.ReaderAt, size int64) ([]byte, error) {
	if int64(cap(buf)) >= size {
		buf = buf[:size]
	} else {
		buf = makeHuge[byte](int(size))
	}
	if size > 0 {
		n, err := source.ReadAt(buf, 0)
		if n < len(buf) {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: read %d of %d bytes", ErrSourceTooShort, n, size)
			}
			return buf, fmt.Errorf("vcdiff: reading source: %w", err)
		}
	}
	return buf, nil
}

func (e *Encoder) setSource(src []byte) error {
	e.src, e.idx = src, &e.ownIdx
	if err := e.idx.build(src, e.params.srcStep, e.params.srcWays, e.params.srcLen); err != nil {
		e.err = err
		return err
	}
	return nil
}

// Write adds target bytes. Full windows are encoded (possibly in the
// background) and written to dst in order.
func (e *Encoder) Write(p []byte) (int, error) {
	if e.closed {
		return 0, ErrClosed
	}
	if e.err != nil {
		return 0, e.err
	}
	ws := e.opts.windowSize
	n := 0
	for len(p) > 0 {
		e.ensureBuf()
		// At most sumChunk bytes at a time, so that they are still in
		// the cache for the checksum.
		k := min(ws-len(e.buf), len(p), sumChunk)
		e.grow(k)
		e.buf = append(e.buf, p[:k]...)
		e.sum(p[:k])
		p = p[k:]
		n += k
		if len(e.buf) == ws {
			e.flushBuf()
			if e.err != nil {
				return n, e.err
			}
		}
	}
	return n, nil
}

// ReadFrom reads the target from r until EOF (io.ReaderFrom).
func (e *Encoder) ReadFrom(r io.Reader) (int64, error) {
	if e.closed {
		return 0, ErrClosed
	}
	if e.err != nil {
		return 0, e.err
	}
	ws := e.opts.windowSize
	var total int64
	for {
		e.ensureBuf()
		want := min(ws-len(e.buf), sumChunk)
		if e.opts.targetSize > 0 {
			// Ask for no more room than the bytes still expected, so that a
			// buffer sized for them is not grown (copied) to see EOF.
			if rest := e.opts.targetSize - e.nwin*int64(ws) - int64(len(e.buf)); rest < int64(want) {
				want = int(max(rest, 1))
			}
		}
		var k int
		var err error
		if len(e.buf) == cap(e.buf) && want == 1 {
			// The buffer is full with all the bytes expected: look for
			// the end through a one-byte read.
			var one [1]byte
			if k, err = r.Read(one[:]); k > 0 {
				e.grow(1)
				e.buf = append(e.buf, one[0])
				e.sum(one[:])
			}
		} else {
			e.grow(want)
			k, err = r.Read(e.buf[len(e.buf):min(cap(e.buf), len(e.buf)+sumChunk, ws)])
			e.sum(e.buf[len(e.buf) : len(e.buf)+k])
			e.buf = e.buf[:len(e.buf)+k]
		}
		total += int64(k)
		if len(e.buf) == ws {
			e.flushBuf()
			if e.err != nil {
				return total, e.err
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// sumChunk is the most target bytes taken in at a time by Write and
// ReadFrom: they are checksummed as they arrive, while still in the cache.
const sumChunk = 256 << 10

// ensureBuf makes sure a window buffer is being filled.
func (e *Encoder) ensureBuf() {
	if e.buf == nil && len(e.spare) > 0 {
		e.buf = e.spare[len(e.spare)-1][:0]
		e.spare = e.spare[:len(e.spare)-1]
	}
}

// sum adds p, just appended to the window buffer, to its checksum.
func (e *Encoder) sum(p []byte) {
	if e.opts.checksum {
		e.bufSum = adlerUpdate(e.bufSum, p)
	}
}

// grow makes room for k more bytes in the window buffer, growing it
// geometrically up to the window size (or at once to its final size when
// the target size is known, WithTargetSize).
func (e *Encoder) grow(k int) {
	if cap(e.buf)-len(e.buf) >= k {
		return
	}
	ws := e.opts.windowSize
	var c int
	if rest := e.opts.targetSize - e.nwin*int64(ws); rest >= int64(len(e.buf)+k) {
		// The target's size is known: this window will hold that many.
		c = int(min(rest, int64(ws)))
	} else if c = max(2*cap(e.buf), len(e.buf)+k, 64<<10); c > ws/4 {
		// Past a quarter window, go straight to the full window: fewer
		// discarded intermediate buffers (they would inflate peak RSS).
		c = ws
	}
	nb := makeHuge[byte](min(c, ws))[:len(e.buf)]
	copy(nb, e.buf)
	e.buf = nb
}

func (e *Encoder) flushBuf() {
	b, sum := e.buf, e.bufSum
	e.buf, e.bufSum = nil, 1
	e.submitJob(&encJob{w: e.worker(), tgt: b, owned: true, sum: &sum})
}

// Close encodes the remaining target bytes, writes the last window(s) and
// waits for every worker. It does not close dst. A patch always has at
// least one window, even for an empty target.
func (e *Encoder) Close() error {
	if e.closed {
		return e.err
	}
	if e.err == nil && (len(e.buf) > 0 || e.nwin == 0) {
		e.flushBuf()
	}
	e.drain(true)
	e.closed = true
	return e.err
}

// submit encodes window tgt, a slice of the caller's target, in the
// background when concurrency allows.
func (e *Encoder) submit(tgt []byte) { e.submitJob(&encJob{w: e.worker(), tgt: tgt}) }

// submitJob encodes window j.tgt, in the background when concurrency
// allows.
func (e *Encoder) submitJob(j *encJob) {
	e.nwin++
	if e.opts.concurrency <= 1 {
		j.out = j.w.encode(j.w.out[:0], e.params, e.src, e.idx, j.tgt, e.opts.checksum, j.sum)
		e.finish(j, true)
		return
	}
	for len(e.jobs) >= e.opts.concurrency {
		e.finishOldest(true)
	}
	j.done = make(chan struct{})
	p, src, idx, ck := e.params, e.src, e.idx, e.opts.checksum
	go func() {
		j.out = j.w.encode(j.w.out[:0], p, src, idx, j.tgt, ck, j.sum)
		close(j.done)
	}()
	e.jobs = append(e.jobs, j)
}

func (e *Encoder) worker() *windowEncoder {
	var w *windowEncoder
	if k := len(e.idle); k > 0 {
		w = e.idle[k-1]
		e.idle = e.idle[:k-1]
	} else {
		w = new(windowEncoder)
	}
	w.hereTrial = e.opts.secondary == SecondaryLZMA
	return w
}

func (e *Encoder) finishOldest(write bool) {
	j := e.jobs[0]
	copy(e.jobs, e.jobs[1:])
	e.jobs[len(e.jobs)-1] = nil
	e.jobs = e.jobs[:len(e.jobs)-1]
	<-j.done
	e.finish(j, write)
}

// finish writes a finished window (unless an error already happened) and
// recycles its worker and buffer.
func (e *Encoder) finish(j *encJob, write bool) {
	if write && e.err == nil {
		e.writeOut(j.out)
	}
	j.w.out = j.out[:0]
	e.idle = append(e.idle, j.w)
	if j.owned && j.tgt != nil {
		e.spare = append(e.spare, j.tgt[:0])
	}
}

// drain waits for all windows in flight, writing them if write is set.
func (e *Encoder) drain(write bool) {
	for len(e.jobs) > 0 {
		e.finishOldest(write)
	}
}

func (e *Encoder) writeOut(win []byte) {
	if !e.wroteHeader {
		e.wroteHeader = true
		h := make([]byte, 0, 16+len(e.opts.appHeader))
		h = append(h, magic0, magic1, magic2, versionRFC)
		if len(e.opts.appHeader) > 0 {
			h = append(h, hdrAppHeader)
			h = appendVarint(h, uint64(len(e.opts.appHeader)))
			h = append(h, e.opts.appHeader...)
		} else {
			h = append(h, 0)
		}
		if _, err := e.dst.Write(h); err != nil {
			e.err = err
			return
		}
	}
	if _, err := e.dst.Write(win); err != nil {
		e.err = err
	}
}

// patchAppender appends to a byte slice.
type patchAppender struct{ b []byte }

func (w *patchAppender) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// Encode appends to dst a patch that turns source into target and returns
// the extended slice. source may be empty (plain compression). Neither
// source nor target is copied or modified.
func Encode(dst, source, target []byte, opts ...EncoderOption) ([]byte, error) {
	e, err := newEncoder(opts)
	if err != nil {
		return dst, err
	}
	w := &patchAppender{b: dst}
	e.dst = w
	if err := e.setSource(source); err != nil {
		return dst, err
	}
	ws := e.opts.windowSize
	for off := 0; off < len(target); off += ws {
		e.submit(target[off:min(off+ws, len(target))])
	}
	if err := e.Close(); err != nil {
		return dst, err
	}
	return w.b, nil
}
