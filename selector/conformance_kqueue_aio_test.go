//go:build dragonfly || (freebsd && (amd64 || arm64))

package selector_test

// EVFILT_AIO can fire here: registering AIO succeeds and adds no filter
// (the aio request names the kqueue itself), as in mio. darwin defines
// EVFILT_AIO but can never deliver it (selector/kqueue_kernels.go), so
// there AIO is ErrUnsupportedInterest.
func init() {
	e := backendExpectations["kqueue"]
	e.aioErr = nil
	backendExpectations["kqueue"] = e
}
