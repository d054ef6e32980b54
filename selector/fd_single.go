//go:build unix && !(linux && (amd64 || arm64) && rawpoll_forcepoll)

package selector

// Helpers for the backends whose Selector is one kernel descriptor (epoll,
// kqueue).

import "golang.org/x/sys/unix"

// dupCloexec duplicates fd onto the lowest free number with FD_CLOEXEC set
// atomically (fcntl(2) F_DUPFD_CLOEXEC), so no fork can inherit it.
func dupCloexec(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, &OpError{Op: "clone", Fd: fd, Err: err}
	}
	return nfd, nil
}

// releaseClosed drops a reference and reports whether close was called
// while it was held, read from the result of the same atomic add (no
// second load on the hot path; as in acquire, the flag is tested on the
// value the add found, which XADD leaves in its register). It inlines, and
// returns constants, so that the caller's test of its result compiles to
// the branch on the add; the closed case is releasedClosed's.
func (r *fdRef) releaseClosed() bool {
	if (r.state.Add(-refOne)+refOne)&refClosed != 0 {
		r.releasedClosed()
		return true
	}
	return false
}

// releasedClosed is releaseClosed after a close: it closes the descriptor
// if no reference remains. It loads the state again instead of taking the
// add's result, which would put releaseClosed over the inlining budget (83
// against 80), and that is as safe: every add that brings the state to
// refDead is followed by a destroy of its own (release, acquireFailed,
// closeWaking, or this load, unless a failing acquire's add came in
// between, and that acquire's release then sees refDead), and destroy
// closes once.
//
//go:noinline
func (r *fdRef) releasedClosed() {
	if r.state.Load() == refDead {
		r.destroy()
	}
}

// isClosed reports whether close has been called or the descriptor was
// never installed.
func (r *fdRef) isClosed() bool { return r.state.Load()&refMask != refOpen }

// fdOrMinus1 is the descriptor while it is open, for Fd accessors.
func (r *fdRef) fdOrMinus1() int {
	if r.isClosed() {
		return -1
	}
	return r.fd
}

// closeWaking is close for a descriptor that calls may be sleeping on in
// the kernel: when calls other than this one hold references, wake runs
// first (it may set also, which is closed with fd) so that they return.
func (r *fdRef) closeWaking(wake func()) error {
	if !r.acquire() {
		return nil // closed before
	}
	old := r.state.Or(refClosed)
	if old&refClosed != 0 { // another Close won the race
		r.release()
		return nil
	}
	if old/refOne > 1 {
		wake()
	}
	if r.state.Add(-refOne) == refDead {
		return r.destroy()
	}
	return nil
}
