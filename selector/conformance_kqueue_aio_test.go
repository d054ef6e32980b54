//go:build darwin || dragonfly || freebsd

package selector_test

// EVFILT_AIO exists here: registering AIO succeeds and adds no filter (the
// aio request names the kqueue itself), as in mio.
func init() {
	e := backendExpectations["kqueue"]
	e.aioErr = nil
	backendExpectations["kqueue"] = e
}
