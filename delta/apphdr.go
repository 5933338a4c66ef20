package delta

import (
	"fmt"
	"strings"
)

// externalComp describes the external-compression fields of an xdelta3
// application header "<target>/<tcomp>/<source>/<scomp>" (§1.1 of the
// xdelta3 format notes). Each comp field is empty, or one letter naming the
// tool xdelta3 ran (G gzip, B bzip2, Y or X xz, Z compress), optionally
// followed by a level digit (xdelta3 3.2 "armor").
type externalComp struct {
	Target, Source string // the comp letters; "" when not compressed
}

func (e externalComp) any() bool { return e.Target != "" || e.Source != "" }

// parseAppHeader extracts the external-compression fields. Headers that do
// not have the xdelta3 shape (e.g. other encoders' free text) report none.
func parseAppHeader(h []byte) (externalComp, error) {
	var e externalComp
	if len(h) == 0 {
		return e, nil
	}
	f := strings.Split(string(h), "/")
	switch len(f) {
	case 2, 4:
	default:
		return e, nil
	}
	comp := func(s string) (string, error) {
		if s == "" {
			return "", nil
		}
		if len(s) > 2 || !strings.ContainsRune("GBXYZ", rune(s[0])) || len(s) == 2 && (s[1] < '0' || s[1] > '9') {
			return "", fmt.Errorf("%w: unrecognised compression field %q in xdelta3 app header %q", ErrExternalCompression, s, h)
		}
		return s[:1], nil
	}
	var err error
	if e.Target, err = comp(f[1]); err != nil {
		return e, err
	}
	if len(f) == 4 {
		if e.Source, err = comp(f[3]); err != nil {
			return e, err
		}
	}
	return e, nil
}

// compTool is the external program xdelta3 runs for a comp letter, with
// its compress and decompress arguments.
func compTool(letter string) (name string, comp, decomp []string) {
	switch letter {
	case "G":
		return "gzip", []string{"-c"}, []string{"-dc"}
	case "B":
		return "bzip2", []string{"-c"}, []string{"-dc"}
	case "X", "Y": // 3.0.x writes Y for xz
		return "xz", []string{"-c"}, []string{"-dc"}
	case "Z":
		return "compress", []string{"-c"}, []string{"-dc"}
	}
	return "", nil, nil
}
