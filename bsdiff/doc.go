// Package bsdiff is a pure-Go bsdiff encoder and decoder.
//
// TODO(helper F): full documentation.
package bsdiff
