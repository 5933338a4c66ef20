//go:build !linux

package vcdiff

import "unsafe"

func adviseHuge(p unsafe.Pointer, n int) {}
