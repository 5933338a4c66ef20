package s3store

// SetCopyLimits lowers the size above which Copy uses UploadPartCopy, and
// its part size, so that tests can exercise multipart copies with small
// objects. It returns a function restoring the defaults.
func SetCopyLimits(threshold, part int64) (restore func()) {
	t, p := maxCopySize, copyPartSize
	maxCopySize, copyPartSize = threshold, part
	return func() { maxCopySize, copyPartSize = t, p }
}
