package bsdiff

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/deltaglider-go/deltaglider/bsdiff/internal/sufarray"
)

// ctrl is one bsdiff control triple: add diffLen bytes of (new - old)
// differences to old bytes, copy extraLen bytes from the extra stream, then
// move the old-file cursor by seek.
type ctrl struct {
	diffLen, extraLen, seek int64
}

// delta is the format-independent encoder output. body holds len(new)
// bytes in patch order: for each ctrl, diffLen bytewise differences
// (new - old) then extraLen literal new bytes. The BSDIFF40 diff and extra
// streams are the concatenations of the respective parts; BSDIFF43
// interleaves them with the control triples.
type delta struct {
	ctrls []ctrl
	body  []byte
}

// each calls fn for each ctrl with its diff and extra parts.
func (d *delta) each(fn func(c ctrl, diff, extra []byte) error) error {
	off := int64(0)
	for _, c := range d.ctrls {
		diff := d.body[off : off+c.diffLen]
		off += c.diffLen
		extra := d.body[off : off+c.extraLen]
		off += c.extraLen
		if err := fn(c, diff, extra); err != nil {
			return err
		}
	}
	return nil
}

// Diff returns a patch that turns old into new. The format is
// FormatBSDIFF40 unless WithFormat says otherwise. It fails with ErrTooLarge
// when old or new is larger than the input cap (WithMaxInputSize).
func Diff(old, new []byte, opts ...Option) ([]byte, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if int64(len(old)) > o.maxInputSize || int64(len(new)) > o.maxInputSize {
		return nil, fmt.Errorf("%w: old %d bytes, new %d bytes, cap %d", ErrTooLarge, len(old), len(new), o.maxInputSize)
	}
	d, err := computeDelta(old, new)
	if err != nil {
		return nil, err
	}
	return d.encode(&o)
}

func computeDelta(old, new []byte) (*delta, error) {
	sa, err := sufarray.Build(old)
	if err != nil {
		return nil, err
	}
	d := &delta{body: make([]byte, len(new))}
	if len(new) < splitMin {
		d.ctrls = coalesce(scanDelta(sa, old, new, d.body, 0))
		return d, nil
	}
	// Two halves scanned concurrently. The first half's matches may not
	// run past the midpoint (it sees new[:mid] only); the second starts
	// from a fresh alignment at mid. Its first triple assumes the old
	// cursor at 0, so the first half's last seek is adjusted to end there.
	// The split depends only on the size, so the output is deterministic.
	mid := len(new) / 2
	var first []ctrl
	done := make(chan struct{})
	go func() {
		first = scanDelta(sa, old, new[:mid], d.body, 0)
		close(done)
	}()
	second := scanDelta(sa, old, new, d.body, mid)
	<-done
	var oldPos int64
	for _, c := range first {
		oldPos += c.diffLen + c.seek
	}
	if n := len(first); n > 0 {
		first[n-1].seek -= oldPos
	}
	d.ctrls = coalesce(append(first, second...))
	return d, nil
}

// coalesce folds every control triple that produces no output (a pure
// seek, which the scan emits on periodic data) into the seek of the triple
// before it: the old cursor ends where it did, the patch is smaller, and
// decoders that bound runs of empty triples accept it. Only a leading
// empty triple can remain.
func coalesce(ctrls []ctrl) []ctrl {
	out := ctrls[:0]
	for _, c := range ctrls {
		if c.diffLen == 0 && c.extraLen == 0 && len(out) > 0 {
			out[len(out)-1].seek += c.seek
			continue
		}
		out = append(out, c)
	}
	return out
}

// splitMin is the new-file size from which the scan runs as two
// concurrent halves.
const splitMin = 4 << 20

// matchLen returns the length of the common prefix of a and b.
func matchLen(a, b []byte) int {
	n := min(len(a), len(b))
	a, b = a[:n], b[:n]
	i := 0
	// Long equal runs are measured with memequal (SIMD) on chunks that
	// double while equal and halve on a difference; the last stretch goes
	// 8 bytes at a time.
	c := 64
	for i+c <= n && string(a[i:i+c]) == string(b[i:i+c]) {
		i += c
		c *= 2
	}
	for c /= 2; c >= 64; c /= 2 {
		if i+c <= n && string(a[i:i+c]) == string(b[i:i+c]) {
			i += c
		}
	}
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// search finds, by binary search over the suffix array sa of old, a
// suffix of old sharing the longest common prefix with target. It returns
// the suffix position, the common length and the suffix-array index.
//
// It keeps the common-prefix lengths of the two bounds with target: every
// suffix between them shares at least the smaller of the two, so each
// comparison starts there and a long match is not re-compared at every step.
func search(sa []int32, old, target []byte) (pos, n, idx int) {
	if len(sa) == 0 {
		return 0, 0, 0
	}
	// lst and len_ are lower bounds of the bounds' common prefixes with
	// target, exact once a bound has been moved. They start at 0 rather
	// than being measured: the initial bounds are arbitrary suffixes, and
	// measuring one that shares a long prefix with target (a long run of
	// zeros) would cost that length on every call.
	st, en := 0, len(sa)-1
	lst, len_ := 0, 0
	exactSt, exactEn := false, false
	for en-st >= 2 {
		x := st + (en-st)/2
		p := int(sa[x])
		k := min(lst, len_)
		l := k + matchLen(old[p+k:], target[k:])
		// As in bsdiff: a suffix that is a prefix of target (or the
		// reverse) counts as not less.
		if p+l < len(old) && l < len(target) && old[p+l] < target[l] {
			st, lst, exactSt = x, l, true
		} else {
			en, len_, exactEn = x, l, true
		}
	}
	if !exactSt {
		lst = matchLen(old[sa[st]:], target)
	}
	if !exactEn {
		len_ = matchLen(old[sa[en]:], target)
	}
	if lst > len_ {
		return int(sa[st]), lst, st
	}
	return int(sa[en]), len_, en
}

// nearest looks at up to tieWindow suffix-array neighbours on each side
// of idx that share the match length n with target, and returns the
// position closest to want.
func nearest(sa []int32, old, target []byte, idx, n, want int) int {
	best := int(sa[idx])
	bd := abs(best - want)
	for _, dir := range []int{-1, 1} {
		for k, i := 0, idx+dir; k < tieWindow && i >= 0 && i < len(sa); k, i = k+1, i+dir {
			p := int(sa[i])
			if p+n > len(old) || string(old[p:p+n]) != string(target[:n]) {
				break
			}
			if d := abs(p - want); d < bd {
				best, bd = p, d
			}
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Tie-breaking between equally long matches: the suffix-array neighbours
// of the found suffix that match as far are candidates too, and the one
// closest to the current alignment wins, which keeps the following
// approximate matches aligned. Only short matches are tie-broken (long ones
// are rarely ambiguous and comparing them is costly). On elf-esbuild
// 0.27.0 -> 0.27.4: 424845 -> 422627 bytes (window 64), 422866 (8);
// 0.27.1: 189376 -> 189105 (16).
const (
	tieWindow = 16
	tieMaxLen = 1024
)

// scanDelta is bsdiff's approximate-match scan. Walking through new, it
// looks up the longest exact match for each position; a match is accepted
// when it is not just the continuation of the current alignment (scored by
// counting bytes that already agree at the current old-new offset) by more
// than matchSlack bytes. The previous alignment is then extended forward, the new
// one backward, each as far as the extension keeps at least half of its
// bytes equal; an overlap between the two is split where the byte counts
// favour each side. The extended region is emitted as differences, the gap
// between the two as extra bytes.
//
// It covers new[from:]; out (at least len(new) bytes, same positions as
// new) receives the delta body; the control triples are returned.
func scanDelta(sa []int32, old, new, out []byte, from int) []ctrl {
	var ctrls []ctrl
	oldSize, newSize := len(old), len(new)
	var n, pos, lastPos, lastOffset int
	scan, lastScan := from, from
	for scan < newSize {
		oldScore := 0
		scan += n
		scsc := scan
		for ; scan < newSize; scan++ {
			var idx int
			pos, n, idx = search(sa, old, new[scan:])
			if n > 0 && n <= tieMaxLen {
				pos = nearest(sa, old, new[scan:], idx, n, scan+lastOffset)
			}
			for ; scsc < scan+n; scsc++ {
				if j := scsc + lastOffset; j >= 0 && j < oldSize && old[j] == new[scsc] {
					oldScore++
				}
			}
			if (n == oldScore && n != 0) || n > oldScore+matchSlack {
				break
			}
			if j := scan + lastOffset; j >= 0 && j < oldSize && old[j] == new[scan] {
				oldScore--
			}
		}
		if n == oldScore && scan != newSize {
			continue
		}

		// Extend the previous match forward from lastScan/lastPos.
		var lenF int
		{
			s, best := 0, 0
			for i := 0; lastScan+i < scan && lastPos+i < oldSize; {
				if old[lastPos+i] == new[lastScan+i] {
					s++
				}
				i++
				if s*2-i > best*2-lenF {
					best, lenF = s, i
				}
			}
		}
		// Extend the new match backward from scan/pos.
		var lenB int
		if scan < newSize {
			s, best := 0, 0
			for i := 1; scan >= lastScan+i && pos >= i; i++ {
				if old[pos-i] == new[scan-i] {
					s++
				}
				if s*2-i > best*2-lenB {
					best, lenB = s, i
				}
			}
		}
		// Resolve an overlap between the two extensions.
		if lastScan+lenF > scan-lenB {
			overlap := (lastScan + lenF) - (scan - lenB)
			s, best, lenS := 0, 0, 0
			for i := 0; i < overlap; i++ {
				if new[lastScan+lenF-overlap+i] == old[lastPos+lenF-overlap+i] {
					s++
				}
				if new[scan-lenB+i] == old[pos-lenB+i] {
					s--
				}
				if s > best {
					best, lenS = s, i+1
				}
			}
			lenF += lenS - overlap
			lenB -= lenS
		}

		dn, do := new[lastScan:lastScan+lenF], old[lastPos:lastPos+lenF]
		dst := out[lastScan : lastScan+lenF]
		for i := range dst {
			dst[i] = dn[i] - do[i]
		}
		extraStart, extraEnd := lastScan+lenF, scan-lenB
		copy(out[extraStart:extraEnd], new[extraStart:extraEnd])
		ctrls = append(ctrls, ctrl{
			diffLen:  int64(lenF),
			extraLen: int64(extraEnd - extraStart),
			seek:     int64((pos - lenB) - (lastPos + lenF)),
		})

		lastScan = scan - lenB
		lastPos = pos - lenB
		lastOffset = pos - scan
	}
	return ctrls
}

// matchSlack is how many bytes a new exact match must beat the current
// alignment's score by to be taken. bsdiff uses 8; on the elf-esbuild
// series 5 gives 1.8-3.5 % smaller patches (0.27.0 -> 0.27.1/.4/.7:
// 196207 -> 189376, 440414 -> 424845, 443832 -> 435840 bytes) and is
// neutral on zip archives (gomod-x-net v0.30.0 -> v0.32.0: 186426 ->
// 186491). Values below 4 are much worse (3: 438640, 2: 584568 on .4).
const matchSlack = 5
