package bsdiff

import (
	"bytes"
	"fmt"
	"io"
)

// encode serializes d in the format chosen by o.
func (d *delta) encode(o *options) ([]byte, error) {
	newSize := int64(len(d.body))
	var out bytes.Buffer
	out.Grow(len(d.body)/16 + 4096)
	var tri [24]byte
	putCtrl := func(c ctrl) []byte {
		putInt(tri[0:], c.diffLen)
		putInt(tri[8:], c.extraLen)
		putInt(tri[16:], c.seek)
		return tri[:]
	}

	if o.format == FormatBSDIFF43 {
		out.WriteString(magic43)
		var n [8]byte
		putInt(n[:], newSize)
		out.Write(n[:])
		zw, err := newCompressor(&out, o)
		if err != nil {
			return nil, err
		}
		err = d.each(func(c ctrl, diff, extra []byte) error {
			if _, err := zw.Write(putCtrl(c)); err != nil {
				return err
			}
			if _, err := zw.Write(diff); err != nil {
				return err
			}
			_, err := zw.Write(extra)
			return err
		})
		if err == nil {
			err = zw.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("bsdiff: compressing patch: %w", err)
		}
		return out.Bytes(), nil
	}

	// BSDIFF40: header, then control, diff and extra streams.
	out.Write(make([]byte, header40Len))
	stream := func(write func(w io.Writer) error) (int64, error) {
		start := out.Len()
		zw, err := newCompressor(&out, o)
		if err != nil {
			return 0, err
		}
		if err := write(zw); err != nil {
			return 0, err
		}
		if err := zw.Close(); err != nil {
			return 0, err
		}
		return int64(out.Len() - start), nil
	}
	ctrlLen, err := stream(func(w io.Writer) error {
		for _, c := range d.ctrls {
			if _, err := w.Write(putCtrl(c)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bsdiff: compressing control stream: %w", err)
	}
	diffLen, err := stream(func(w io.Writer) error {
		return d.each(func(_ ctrl, diff, _ []byte) error {
			_, err := w.Write(diff)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("bsdiff: compressing diff stream: %w", err)
	}
	if _, err := stream(func(w io.Writer) error {
		return d.each(func(_ ctrl, _, extra []byte) error {
			_, err := w.Write(extra)
			return err
		})
	}); err != nil {
		return nil, fmt.Errorf("bsdiff: compressing extra stream: %w", err)
	}
	b := out.Bytes()
	copy(b, magic40)
	putInt(b[8:], ctrlLen)
	putInt(b[16:], diffLen)
	putInt(b[24:], newSize)
	return b, nil
}
