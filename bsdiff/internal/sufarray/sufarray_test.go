package sufarray

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBuildMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 2, 17, 1000, 70_000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.IntN(3)) // small alphabet: long common prefixes
		}
		sa, err := Build(data)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortFunc(want, func(a, b int32) int { return bytes.Compare(data[a:], data[b:]) })
		if !slices.Equal(sa, want) {
			t.Fatalf("n=%d: suffix array differs from a sort", n)
		}
	}
}

func TestPermutationCheck(t *testing.T) {
	sa, err := Build([]byte("mississippi banana"))
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(sa)
	if !isPermutation(sa) || !slices.Equal(sa, want) {
		t.Fatal("real suffix array rejected or altered")
	}
	sa[1] = sa[0]
	if isPermutation(sa) {
		t.Fatal("duplicate accepted")
	}
	sa[1] = int32(len(sa))
	if isPermutation(sa) {
		t.Fatal("out-of-range value accepted")
	}
}
