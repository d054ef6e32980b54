//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"runtime"
	"sync/atomic"
	"syscall"

	"github.com/rawpoll/rawpoll/rawsys"
)

// fdRef guards a socket's descriptor number against reuse, as selector's
// fdRef does for a selector: every call that hands the number to the
// kernel holds a reference for the duration of the call, and Close marks
// the descriptor closed, waits for the calls that hold it to return, and
// closes it (closeWait). Only Close closes: a release never does, so a
// stray acquire that fails after Close cannot close a descriptor installed
// in the storage since. Without it, a Read racing a
// Close in another goroutine could reach the kernel with a number that
// Close released and an accept elsewhere reused, and read another
// connection's data.
//
// A connection owned by one event loop would need less (the loop never
// races itself), but sockets are also closed from other goroutines (a
// shutdown path, a timer), and the cost is two uncontended atomic adds per
// call, next to a system call of several hundred nanoseconds.
//
// The zero fdRef is closed and inert. init may install a descriptor in a
// zero fdRef, or in one whose descriptor has been closed and which no call
// uses any more (the caller's storage is being reused).
type fdRef struct {
	fd    int
	state atomic.Int64 // refOpen | refClosed | references * refOne
	done  atomic.Bool  // destroy has started
	gone  atomic.Bool  // ... and close(2) has returned: the storage may be reused
	// linger is set when SO_LINGER with a positive time was set: close(2)
	// may then wait, so destroy uses the scheduler-aware close.
	linger atomic.Bool
}

const (
	refOpen   = 1
	refClosed = 2
	refOne    = 4
	refMask   = refOpen | refClosed
	refDead   = refOpen | refClosed // the state in which the last reference closes
	// refReserved marks an fdRef between begin and finish (or abort): closed
	// for acquire, and never equal to refDead whatever the references.
	refReserved = 1 << 62
)

// begin starts installing a descriptor: it reserves the fdRef, and fails
// when the fdRef is still open or calls are still using a descriptor it
// held. The reserved fdRef is closed, not open: a stray acquire fails and
// its release cannot reach refDead. The caller sets what goes with the
// descriptor, then calls finish, which opens it.
func (r *fdRef) begin() bool {
	s := r.state.Load()
	// Zero; closed before anything was installed (a Close of a zero
	// value); or closed, with the descriptor gone and no calls left. Gone,
	// not just being destroyed: destroy reads the old descriptor, and
	// finish would overwrite it under it.
	if s != 0 && s != refClosed && !(s == refDead && r.gone.Load()) {
		return false
	}
	return r.state.CompareAndSwap(s, refReserved|refClosed)
}

// finish installs fd in a reserved fdRef and opens it.
func (r *fdRef) finish(fd int) {
	r.fd = fd
	r.linger.Store(false)
	r.done.Store(false)
	r.gone.Store(false)
	r.state.Add(refOpen - refClosed - refReserved)
}

// abort undoes a begin: the fdRef is closed and may begin again.
func (r *fdRef) abort() {
	r.done.Store(true)
	r.gone.Store(true)
	r.state.Add(refDead - refClosed - refReserved)
}

// init is begin and finish for a descriptor with nothing else to set.
func (r *fdRef) init(fd int) bool {
	if !r.begin() {
		return false
	}
	r.finish(fd)
	return true
}

// acquire takes a reference and reports whether the descriptor is open.
func (r *fdRef) acquire() bool {
	return r.state.Add(refOne)&refMask == refOpen || r.acquireFailed()
}

//go:noinline
func (r *fdRef) acquireFailed() bool {
	r.release()
	return false
}

// release drops a reference taken by acquire. It never closes: Close
// waits for the last reference and closes itself. (When the last release
// closed, one that a failed acquire made after Close returned could find
// the storage reused by begin and finish between its add and its destroy,
// and close the new descriptor.)
func (r *fdRef) release() { r.state.Add(-refOne) }

// isOpen reports whether the descriptor is installed and not closed.
func (r *fdRef) isOpen() bool { return r.state.Load()&refMask == refOpen }

// fdOrMinus1 is the descriptor while it is open.
func (r *fdRef) fdOrMinus1() int {
	if !r.isOpen() {
		return -1
	}
	return r.fd
}

func (r *fdRef) destroy() error {
	fd, linger := r.fd, r.linger.Load() // read before done lets begin through
	if !r.done.CompareAndSwap(false, true) {
		return nil
	}
	var errno syscall.Errno
	if linger {
		// close(2) may wait for the linger time: tell the scheduler.
		if err := syscall.Close(fd); err != nil {
			errno, _ = err.(syscall.Errno)
		}
	} else {
		errno = rawsys.Close(fd)
	}
	r.gone.Store(true)
	if errno != 0 {
		return &OpError{Op: "close", Err: errno}
	}
	return nil
}

// waitClosed returns once a Close under way on another goroutine has
// finished: no reference or reservation left and close(2) returned, as
// begin requires. A later Close keeps the promise of the first (the
// storage may be reused when it returns). It returns at once for a zero
// fdRef, one being installed, or one installed again since.
func (r *fdRef) waitClosed() {
	for {
		if s := r.state.Load(); s&refMask != refDead || s == refDead && r.gone.Load() {
			return
		}
		runtime.Gosched() // the first Close waits for calls that cannot block, or is in close(2)
	}
}

// closeWait is close for the public Close methods. Once it has marked
// the descriptor closed (no new call gets it) it waits for the calls in
// flight on other goroutines (none of them can block) to return, then runs
// before, if not nil, with the descriptor still this socket's and nothing
// else using it (so before sees all those calls did: a SendRing's
// Selector), and closes it. After it the storage may be reused: a Slab
// slot removed, an Accept into it. It reports the close(2) error, nil for
// every later Close, which returns only once the first is done.
func (r *fdRef) closeWait(before func(fd int)) error {
	if !r.acquire() {
		r.waitClosed() // closed before, maybe still closing; or never installed
		return nil
	}
	if old := r.state.Or(refClosed); old&refClosed != 0 {
		r.release() // another Close won
		r.waitClosed()
		return nil
	}
	// Ours is the last reference once the state is refDead plus one; an
	// acquire failing meanwhile adds and removes one of its own, so the
	// compare-and-swap, not a load, decides that no one else will destroy.
	for !r.state.CompareAndSwap(refDead+refOne, refDead|refReserved) {
		runtime.Gosched()
	}
	// Reserved: closed for acquire, and a failing acquire's release
	// cannot reach refDead and destroy under us; cleared once the
	// descriptor is closed, which lets begin reuse the storage.
	if before != nil {
		before(r.fd)
	}
	err := r.destroy()
	r.state.Add(-refReserved)
	return err
}
