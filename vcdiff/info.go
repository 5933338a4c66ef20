package vcdiff

import (
	"fmt"
	"io"
)

// PatchInfo describes a patch without decoding it (no source needed), like
// xdelta3's printhdrs.
type PatchInfo struct {
	Version       byte         `json:"version"`
	Secondary     int          `json:"secondary_id"`
	SecondaryName string       `json:"secondary"`
	AppHeader     []byte       `json:"app_header,omitempty"` // opaque bytes (base64 in JSON)
	HeaderSize    int64        `json:"header_size"`          // bytes of the file header
	PatchSize     int64        `json:"patch_size"`
	TargetSize    int64        `json:"target_size"`
	Windows       []WindowInfo `json:"windows"`
}

// WindowInfo describes one window.
type WindowInfo struct {
	Index          int         `json:"index"`
	Offset         int64       `json:"offset"` // patch offset of the window indicator
	Size           int64       `json:"size"`   // bytes of the window in the patch
	Indicator      byte        `json:"indicator"`
	HasSource      bool        `json:"has_source"`
	SegmentLength  uint64      `json:"segment_length"`
	SegmentOffset  uint64      `json:"segment_position"`
	TargetOffset   int64       `json:"target_offset"`
	TargetLength   uint64      `json:"target_length"`
	DeltaIndicator byte        `json:"delta_indicator"`
	Data           SectionInfo `json:"data"`
	Inst           SectionInfo `json:"inst"`
	Addr           SectionInfo `json:"addr"`
	HasChecksum    bool        `json:"has_checksum"`
	Checksum       uint32      `json:"adler32"`
}

// SectionInfo gives a section's stored size and, when it is
// secondary-compressed, its declared decoded size.
type SectionInfo struct {
	Stored     uint64 `json:"stored"`
	Decoded    uint64 `json:"decoded"`
	Compressed bool   `json:"compressed"`
}

// SecondaryName returns the name of a secondary compressor ID.
func SecondaryName(id int) string {
	switch id {
	case SecondaryNone:
		return "none"
	case SecondaryDJW:
		return "djw"
	case SecondaryLZMA:
		return "lzma"
	case SecondaryFGK:
		return "fgk"
	}
	return fmt.Sprintf("unknown(%d)", id)
}

// Inspect reads a whole patch and describes its header and windows. It
// checks the framing (lengths, indicator bits, caps) like the decoder but
// does not decompress sections or run instructions. The decoder options
// supply the caps; WithVerifyChecksum has no effect.
func Inspect(patch io.Reader, opts ...DecoderOption) (*PatchInfo, error) {
	o := defaultDecoderOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	var pr patchReader
	pr.reset(patch)
	h, err := pr.readFileHeader(o.maxAppHeader)
	if err != nil {
		return nil, err
	}
	info := &PatchInfo{
		Version:       h.Version,
		Secondary:     h.Secondary,
		SecondaryName: SecondaryName(h.Secondary),
		AppHeader:     h.AppHeader,
		HeaderSize:    pr.off,
	}
	var buf []byte
	for win := 0; ; win++ {
		start := pr.off
		w, err := pr.readWindowHeader(win, &h, windowLimits{maxWindow: o.maxWindow})
		if err == io.EOF {
			break
		}
		if err != nil {
			return info, err
		}
		if int64(win) >= o.maxWindows {
			return info, fmt.Errorf("%w: more than %d windows", ErrLimit, o.maxWindows)
		}
		if o.maxOutput >= 0 && w.tgtLen > uint64(o.maxOutput-info.TargetSize) {
			return info, fmt.Errorf("%w: output exceeds the cap of %d bytes in window %d", ErrLimit, o.maxOutput, win)
		}
		wi := WindowInfo{
			Index:          win,
			Offset:         start,
			Indicator:      w.indicator,
			HasSource:      w.indicator&winSource != 0,
			SegmentLength:  w.segLen,
			SegmentOffset:  w.segPos,
			TargetOffset:   info.TargetSize,
			TargetLength:   w.tgtLen,
			DeltaIndicator: w.delta,
			HasChecksum:    w.hasSum,
			Checksum:       w.sum,
		}
		lens := [3]uint64{w.dataLen, w.instLen, w.addrLen}
		secs := [3]*SectionInfo{&wi.Data, &wi.Inst, &wi.Addr}
		for i, n := range lens {
			if buf, err = pr.readFull(buf, int(n)); err != nil {
				return info, fmt.Errorf("vcdiff: window %d sections: %w", win, err)
			}
			s := secs[i]
			s.Stored, s.Decoded = n, n
			if w.delta&(1<<i) != 0 {
				s.Compressed = true
				v, k, err := parseVarint(buf)
				if err != nil || k > maxVarintLen || v == 0 {
					return info, &CorruptInputError{Offset: pr.off - int64(n), Window: win,
						Reason: sectionNames[i] + " section: bad decoded-size prefix"}
				}
				s.Decoded = v
			}
		}
		wi.Size = pr.off - start
		info.TargetSize += int64(w.tgtLen)
		info.Windows = append(info.Windows, wi)
	}
	info.PatchSize = pr.off
	return info, nil
}
