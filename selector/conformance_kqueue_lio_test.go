//go:build freebsd && (amd64 || arm64)

package selector_test

// EVFILT_LIO exists on FreeBSD only.
func init() {
	e := backendExpectations["kqueue"]
	e.lioErr = nil
	backendExpectations["kqueue"] = e
}
