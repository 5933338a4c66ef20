package store

import (
	"errors"
	"strings"
	"testing"
)

func TestMetadataSize(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"a b", 3},
		{"x=?y", len("=?UTF-8?B?") + 8 + 2}, // "=?" forces encoding
		{"a\tb", len("=?UTF-8?B??=") + 4},   // so does a tab
		{strings.Repeat("é", 22), 12 + 60},  // 44 bytes: one word
		{strings.Repeat("é", 23), 12 + 60 + 1 + 16}, // a rune is never split
		{strings.Repeat("\x01", 46), 12 + 60 + 1 + 16},
	} {
		if got := MetadataSize(map[string]string{"k": tc.v}); got != 1+tc.want {
			t.Errorf("MetadataSize(%q) = %d, want %d", tc.v, got, 1+tc.want)
		}
	}
}

func TestValidateKey(t *testing.T) {
	good := []string{"a", "a/b", "a b/c+d%20=e", ".x", "..x", "x.", strings.Repeat("k", 255), "日本/語"}
	bad := []string{"", "/", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "../a", "a\x00", "\xff",
		strings.Repeat("k", 256), strings.Repeat("k/", 512) + "k"}
	for _, k := range good {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	for _, k := range bad {
		if err := ValidateKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
}

func TestValidateBucket(t *testing.T) {
	for _, b := range []string{"abc", "a-b.c", "123", "a" + strings.Repeat("b", 62), "1.2.3"} {
		if err := ValidateBucket(b); err != nil {
			t.Errorf("ValidateBucket(%q) = %v", b, err)
		}
	}
	for _, b := range []string{"ab", "Abc", "a_b", "-ab", "ab-", ".ab", "a..b", "1.2.3.4", strings.Repeat("b", 64), "a/b"} {
		if err := ValidateBucket(b); !errors.Is(err, ErrInvalidBucket) {
			t.Errorf("ValidateBucket(%q) = %v, want ErrInvalidBucket", b, err)
		}
	}
}
