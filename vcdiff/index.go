package vcdiff

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// srcHashLen is the number of bytes hashed per sampled source position: a
// source match is found only if it covers an indexed position and its 8
// following bytes, so every match of srcHashLen+step-1 bytes or more is found
// (when its sample survives in the table; see below), shorter ones by chance.
const srcHashLen = 8

// sourceIndex is a sampled hash index of the whole source, built once per
// source and shared read-only by all window workers.
//
// Every step-th source position p (p%step == 0) is hashed over the
// srcHashLen bytes at p and stored in a bucket of `ways` slots; a newer
// position evicts the oldest of its bucket, except that a bucket keeps only
// the first position of each distinct tag (below), so frequent strings do
// not push rare ones out. A slot holds p/step+1 as a
// uint32 (0 = empty), so the table costs exactly 4 bytes per slot. The
// number of buckets is the number of samples divided by ways (no
// power-of-two rounding: the bucket is picked with a multiply-high), so the
// index takes 4 bytes per sampled position, i.e. 4*len(source)/step bytes:
// 0.5 x the source at the default level (step 8), 2 x at level 9 (step 2).
//
// Unlike xdelta3's source window there is no horizon: content anywhere in
// the source can be matched from anywhere in the target.
//
// The high bits of a slot that position numbers do not need (32 minus the
// bit length of the number of samples) hold a tag taken from the hash, so
// most lookups of absent strings are rejected without touching the source.
type sourceIndex struct {
	src      []byte
	step     int
	ways     int
	nbuckets uint64
	table    []uint32
	kbits    uint   // bits of a slot holding position/step+1
	kmask    uint32 // (1<<kbits)-1
	vmask    uint64 // selects the hashed bytes of an 8-byte load
	sink     uint32 // keeps build's batch loads from being optimised away
	batched  bool   // probes look up runs of positions together (see matcher.fill)
}

// hashSrc mixes 8 source bytes; the bucket is taken from the high bits.
func hashSrc(v uint64) uint64 { return v * 0x9E3779B97F4A7C15 }

// bucket returns the first slot of the bucket for the 8-byte value v and
// the tag (already shifted into place) its slots carry.
func (x *sourceIndex) bucket(v uint64) (int, uint32) {
	h := hashSrc(v & x.vmask)
	hi, lo := bits.Mul64(h, x.nbuckets)
	return int(hi) * x.ways, uint32(lo>>32) &^ x.kmask
}

// build (re)indexes src, reusing the table's memory when it is big enough.
func dup(s []uint32, tag, kmask uint32) bool {
	for _, e := range s {
		if e != 0 && e&^kmask == tag {
			return true
		}
	}
	return false
}

func (x *sourceIndex) build(src []byte, step, ways, hashLen int) error {
	x.src = src
	x.vmask = 1<<(8*uint(hashLen)) - 1
	if hashLen >= 8 {
		x.vmask = ^uint64(0)
	}
	x.step = step
	x.ways = ways
	samples := 0
	if len(src) >= srcHashLen {
		samples = (len(src)-srcHashLen)/step + 1
	}
	if uint64(samples) >= 1<<32-1 {
		return fmt.Errorf("%w: source of %d bytes is too large to index at this level", ErrLimit, len(src))
	}
	nb := (samples + ways - 1) / ways
	if nb == 0 {
		x.nbuckets = 0
		x.table = x.table[:0]
		return nil
	}
	x.nbuckets = uint64(nb)
	x.batched = nb*ways*4 > batchedTable
	x.kbits = uint(bits.Len32(uint32(samples)))
	x.kmask = uint32(1)<<x.kbits - 1
	n := nb * ways
	if cap(x.table) >= n {
		x.table = x.table[:n]
		clear(x.table)
	} else {
		x.table = makeTable[uint32](n)
	}
	t := x.table
	last := len(src) - srcHashLen
	if ways == 1 {
		for p, k := 0, uint32(1); p <= last; p, k = p+step, k+1 {
			b, tag := x.bucket(binary.LittleEndian.Uint64(src[p:]))
			t[b] = k | tag
		}
		return nil
	}
	if ways == 4 {
		x.build4(src, step)
	} else {
		x.buildSlots(src, step)
	}
	return nil
}

// batchedTable is the table size (bytes) above which probes are batched:
// a smaller table mostly stays in the processor's caches, where a direct
// probe is cheaper than a batch that also looks up positions the parser
// then skips (elf-esbuild, 5.5 MB table: 10 % slower batched; typescript,
// 16 MB: 25 % faster).
const batchedTable = 8 << 20

// memBytes is the index's memory footprint.
func (x *sourceIndex) memBytes() int { return 4 * cap(x.table) }

// buildSlots inserts the samples into a table of any number of ways, one
// slot at a time. Samples are inserted in batches: the batch's buckets are
// computed and loaded first, so that their cache misses overlap instead of
// being paid one after another by the dependent insertion code. The table
// is the same as with one-by-one insertion.
func (x *sourceIndex) buildSlots(src []byte, step int) {
	t, ways := x.table, x.ways
	var bs [32]int
	var tags [32]uint32
	k := uint32(1)
	for p, nb := 0, 0; ; {
		if nb, p = x.loadBatch(src, p, step, bs[:], tags[:]); nb == 0 {
			break
		}
		for j, b := range bs[:nb] {
			s := t[b : b+ways : b+ways]
			// A bucket keeps one position per distinct tag: a frequent
			// string must not evict the rarer ones sharing its bucket
			// (rare strings are the ones that pin a match to its true
			// position).
			if tag := tags[j]; !dup(s, tag, x.kmask) {
				copy(s[1:], s[:ways-1])
				s[0] = k | tag
			}
			k++
		}
	}
}

// build4 builds the same table as buildSlots for 4 ways, about a fifth
// faster: a bucket is handled as two 64-bit words of two slots each, and
// the duplicate-tag check and the insertion at the front are done on whole
// words without branches (whether a string is a duplicate is unpredictable,
// so a branch on it mispredicts often). Batches are longer, for more
// overlapping misses.
func (x *sourceIndex) build4(src []byte, step int) {
	const lanes = 0x0000000100000001 // 1 in each 32-bit half
	t := x.table
	km := uint64(^x.kmask) * lanes // the tag bits of both slots
	var bs [64]int
	var tags [64]uint32
	k := uint32(1)
	for p, nb := 0, 0; ; {
		if nb, p = x.loadBatch(src, p, step, bs[:], tags[:]); nb == 0 {
			break
		}
		for j, b := range bs[:nb] {
			tag := tags[j]
			// a holds slots 0 (low half) and 1, c slots 2 and 3.
			s := (*[4]uint32)(t[b:])
			a, c := uint64(s[0])|uint64(s[1])<<32, uint64(s[2])|uint64(s[3])<<32
			// A half whose tag bits equal tag becomes zero; the
			// has-a-zero-half test is exact.
			tt := uint64(tag) * lanes
			ya, yc := (a^tt)&km, (c^tt)&km
			z := (ya-lanes)&^ya | (yc-lanes)&^yc
			keep := ((z>>31 | z>>63) & 1) - 1 // all ones: not a duplicate, insert
			if tag == 0 {
				// An empty slot has tag bits 0 too: check the slow way.
				keep = 0
				if !dup(s[:], tag, x.kmask) {
					keep = ^uint64(0)
				}
			}
			na := a ^ ((uint64(k|tag)|a<<32)^a)&keep
			s[0], s[1] = uint32(na), uint32(na>>32)
			nc := c ^ ((a>>32|c<<32)^c)&keep
			s[2], s[3] = uint32(nc), uint32(nc>>32)
			k++
		}
	}
}

// loadBatch fills bs and tags with the buckets and tags of the samples at
// p, p+step, ... (at most len(bs) of them, none past the last one) and
// loads those buckets, so that their cache misses overlap instead of being
// paid one after another by the dependent insertion code. It returns how
// many it filled and the next sample's position.
func (x *sourceIndex) loadBatch(src []byte, p, step int, bs []int, tags []uint32) (int, int) {
	last := len(src) - srcHashLen
	nb := 0
	for ; nb < len(bs) && p <= last; nb, p = nb+1, p+step {
		bs[nb], tags[nb] = x.bucket(binary.LittleEndian.Uint64(src[p:]))
	}
	sink := x.sink
	for _, b := range bs[:nb] {
		sink += x.table[b]
	}
	x.sink = sink
	return nb, p
}
