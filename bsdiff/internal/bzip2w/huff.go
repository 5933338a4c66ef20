package bzip2w

import "slices"

// huffLengths sets lens to Huffman code lengths for freq (every symbol gets
// a code, unused ones the longest), limited to maxLen by flattening the
// frequencies and retrying, as libbzip2 does.
func huffLengths(freq []int32, maxLen int, lens []uint8) {
	n := len(freq)
	w := make([]int64, n)
	for i, f := range freq {
		w[i] = max(int64(f), 1) << 8
	}
	idx := make([]int, n)
	parent := make([]int, 2*n)
	weight := make([]int64, 2*n)
	for {
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case w[a] < w[b]:
				return -1
			case w[a] > w[b]:
				return 1
			}
			return 0
		})
		// Leaves are nodes 0..n-1; internal nodes n.. are created in
		// nondecreasing weight order (two-queue Huffman).
		for i := range n {
			weight[i] = w[i]
		}
		li, ii, next := 0, n, n
		pop := func() int {
			if li < n && (ii >= next || weight[idx[li]] <= weight[ii]) {
				li++
				return idx[li-1]
			}
			ii++
			return ii - 1
		}
		for next < 2*n-1 {
			a, b := pop(), pop()
			weight[next] = weight[a] + weight[b]
			parent[a], parent[b] = next, next
			next++
		}
		// Depths: the root is node 2n-2; parents have higher numbers.
		depth := make([]int, 2*n-1)
		for v := 2*n - 3; v >= 0; v-- {
			depth[v] = depth[parent[v]] + 1
		}
		too := false
		for i := range n {
			lens[i] = uint8(depth[i])
			if depth[i] > maxLen {
				too = true
			}
		}
		if !too {
			return
		}
		for i := range w {
			w[i] = ((w[i]>>8)/2 + 1) << 8
		}
	}
}

// assignCodes gives canonical codes: by increasing length, then symbol.
func assignCodes(lens []uint8, codes []uint32) {
	minL, maxL := uint8(255), uint8(0)
	for _, l := range lens {
		minL, maxL = min(minL, l), max(maxL, l)
	}
	code := uint32(0)
	for l := minL; l <= maxL; l++ {
		for s, sl := range lens {
			if sl == l {
				codes[s] = code
				code++
			}
		}
		code <<= 1
	}
}
