package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestInfoText(t *testing.T) {
	code, stdout, stderr := runCLI(t, nil, "info", golden(t, "text.w16k.vcdiff"))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		"secondary:   lzma (ID 2)",
		`app header:  "text.tgt//text.src/" (19 bytes)`,
		"target size: 48207",
		"windows:     3",
		"adler32",
		"1e8085cb", // window 0's Adler-32 as written by xdelta3
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if n := strings.Count(stdout, "\n"); n != 6+1+3 {
		t.Errorf("%d lines, want 10:\n%s", n, stdout)
	}
}

func TestInfoJSON(t *testing.T) {
	patch, _ := os.ReadFile(golden(t, "text.djw.vcdiff"))
	for _, args := range [][]string{{"info", "--json", "-"}, {"info", "-", "--json"}} {
		code, stdout, stderr := runCLI(t, patch, args...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
		var doc struct {
			Secondary     string `json:"secondary"`
			AppHeaderText string `json:"app_header_text"`
			TargetSize    int64  `json:"target_size"`
			Windows       []struct {
				TargetLength uint64 `json:"target_length"`
				Inst         struct {
					Stored, Decoded uint64
					Compressed      bool
				} `json:"inst"`
				HasChecksum bool `json:"has_checksum"`
			} `json:"windows"`
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stdout)
		}
		if doc.Secondary != "djw" || doc.AppHeaderText != "text.tgt//text.src/" || doc.TargetSize != 48207 ||
			len(doc.Windows) != 1 || !doc.Windows[0].HasChecksum || !doc.Windows[0].Inst.Compressed ||
			doc.Windows[0].Inst.Decoded <= doc.Windows[0].Inst.Stored {
			t.Fatalf("%v: unexpected document %+v", args, doc)
		}
	}
}

func TestInfoFailures(t *testing.T) {
	code, _, stderr := runCLI(t, []byte("not a patch at all"), "info", "-")
	if code != 1 || !strings.Contains(stderr, "not a VCDIFF patch") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("garbage: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, nil, "info")
	if code != 2 {
		t.Fatalf("no argument: exit %d, stderr %q", code, stderr)
	}
	p, _ := os.ReadFile(golden(t, "text.w16k.vcdiff"))
	code, _, stderr = runCLI(t, p[:700], "info", "-")
	if code != 1 || !strings.Contains(stderr, "unexpected EOF") {
		t.Fatalf("truncated: exit %d, stderr %q", code, stderr)
	}
}
