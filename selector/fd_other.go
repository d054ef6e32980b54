//go:build !unix

package selector

// closeFd is never reached here: no backend installs a descriptor
// (unsupported.go), so fdRef.destroy has nothing to close.
func closeFd(fd int) error { return nil }
