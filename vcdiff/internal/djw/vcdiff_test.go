package djw

// A minimal, test-only VCDIFF reader/writer: just enough of the xdelta3 wire
// format to pull the three sections out of each window and to splice
// re-encoded sections back in. The real codec lives in package vcdiff.

import (
	"errors"
	"fmt"
)

type testPatch struct {
	hdrInd  byte
	secID   byte
	appHdr  []byte
	windows []testWindow
}

type testWindow struct {
	ind            byte
	segLen, segPos uint64
	tgtLen         uint64
	delta          byte
	adler          []byte
	sect           [3][]byte // data, inst, addr as stored (maybe compressed)
}

func readVarint(b []byte, p *int) (uint64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		if *p >= len(b) {
			return 0, errors.New("varint: truncated")
		}
		c := b[*p]
		*p++
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("varint: too long")
}

func appendVarintTest(dst []byte, v uint64) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v != 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(dst, tmp[i:]...)
}

func parseTestPatch(b []byte) (*testPatch, error) {
	if len(b) < 5 || b[0] != 0xd6 || b[1] != 0xc3 || b[2] != 0xc4 || b[3] != 0 {
		return nil, errors.New("bad magic")
	}
	p := &testPatch{hdrInd: b[4]}
	pos := 5
	if p.hdrInd&1 != 0 {
		p.secID = b[pos]
		pos++
	}
	if p.hdrInd&2 != 0 {
		return nil, errors.New("code table not supported")
	}
	if p.hdrInd&4 != 0 {
		n, err := readVarint(b, &pos)
		if err != nil {
			return nil, err
		}
		p.appHdr = b[pos : pos+int(n)]
		pos += int(n)
	}
	for pos < len(b) {
		var w testWindow
		var err error
		w.ind = b[pos]
		pos++
		if w.ind&3 != 0 {
			if w.segLen, err = readVarint(b, &pos); err != nil {
				return nil, err
			}
			if w.segPos, err = readVarint(b, &pos); err != nil {
				return nil, err
			}
		}
		enclen, err := readVarint(b, &pos)
		if err != nil {
			return nil, err
		}
		end := pos + int(enclen)
		if w.tgtLen, err = readVarint(b, &pos); err != nil {
			return nil, err
		}
		w.delta = b[pos]
		pos++
		var lens [3]uint64
		for k := range lens {
			if lens[k], err = readVarint(b, &pos); err != nil {
				return nil, err
			}
		}
		if w.ind&4 != 0 {
			w.adler = b[pos : pos+4]
			pos += 4
		}
		for k := range lens {
			w.sect[k] = b[pos : pos+int(lens[k])]
			pos += int(lens[k])
		}
		if pos != end {
			return nil, fmt.Errorf("window enclen mismatch: at %d, want %d", pos, end)
		}
		p.windows = append(p.windows, w)
	}
	return p, nil
}

func (p *testPatch) bytes() []byte {
	b := []byte{0xd6, 0xc3, 0xc4, 0, p.hdrInd}
	if p.hdrInd&1 != 0 {
		b = append(b, p.secID)
	}
	if p.hdrInd&4 != 0 {
		b = appendVarintTest(b, uint64(len(p.appHdr)))
		b = append(b, p.appHdr...)
	}
	for _, w := range p.windows {
		b = append(b, w.ind)
		if w.ind&3 != 0 {
			b = appendVarintTest(b, w.segLen)
			b = appendVarintTest(b, w.segPos)
		}
		var body []byte
		body = appendVarintTest(body, w.tgtLen)
		body = append(body, w.delta)
		for k := range w.sect {
			body = appendVarintTest(body, uint64(len(w.sect[k])))
		}
		body = append(body, w.adler...)
		for k := range w.sect {
			body = append(body, w.sect[k]...)
		}
		b = appendVarintTest(b, uint64(len(body)))
		b = append(b, body...)
	}
	return b
}

// splitSection separates a compressed section into its decoded size and
// the DJW bytes.
func splitSection(s []byte) (int, []byte, error) {
	pos := 0
	n, err := readVarint(s, &pos)
	if err != nil {
		return 0, nil, err
	}
	return int(n), s[pos:], nil
}
