//go:build linux && (amd64 || arm64)

package selector

import (
	"sync"
	"syscall"

	"github.com/rawpoll/rawpoll/rawsys"
)

// Waker wakes a Selector from another goroutine: Wake makes the Selector
// report an event with the Waker's token. Wakes coalesce: several Wakes
// before a Select give one event. A Selector may have several Wakers.
//
// On Linux a Waker is an eventfd (EFD_CLOEXEC|EFD_NONBLOCK) of its own.
// On epoll it is registered edge-triggered for reading, and every write is
// a new edge, so the counter is never read back; on poll the selector
// drains it when it reports the wake.
type Waker struct {
	ref fdRef
	sel *Selector
}

// NewWaker creates a Waker whose events carry token t, registered with s.
func NewWaker(s *Selector, t Token) (*Waker, error) {
	if s == nil {
		return nil, ErrNilSelector
	}
	fd, errno := rawsys.Eventfd2(0, rawsys.EFD_CLOEXEC|rawsys.EFD_NONBLOCK)
	if errno != 0 {
		return nil, opError("new waker", -1, errno)
	}
	s.wakers.mu.Lock()
	defer s.wakers.mu.Unlock()
	err := ErrClosed
	if !s.wakers.shut {
		err = s.registerWaker(fd, t)
	}
	if err != nil {
		closeFd(fd)
		return nil, err
	}
	s.wakers.fds = append(s.wakers.fds, fd)
	w := &Waker{sel: s}
	w.ref.init(fd)
	return w, nil
}

// wakerSet is the eventfds of the Wakers made with one Selector handle.
// The set of registrations is shared with its clones, and a Waker's
// eventfd stays open until Waker.Close: the handle's Close deregisters
// them, so that a clone never reports a closed Selector's Waker token (a
// wake made just before the Close included), as kqueue deletes the closed
// handle's Waker knotes.
type wakerSet struct {
	mu   sync.Mutex
	fds  []int
	shut bool // the handle's Close has deregistered them
}

// closeWakers deregisters the Wakers made with s; NewWaker on s fails
// from here on. Close calls it before it closes anything.
func (s *Selector) closeWakers() {
	s.wakers.mu.Lock()
	defer s.wakers.mu.Unlock()
	if s.wakers.shut {
		return
	}
	s.wakers.shut = true
	for _, fd := range s.wakers.fds {
		s.deregisterWaker(fd)
	}
	s.wakers.fds = nil
}

// forgetWaker deregisters one Waker's eventfd, unless its Selector's Close
// has done it.
func (s *Selector) forgetWaker(fd int) {
	s.wakers.mu.Lock()
	defer s.wakers.mu.Unlock()
	if s.wakers.shut {
		return
	}
	for i, f := range s.wakers.fds {
		if f == fd {
			s.wakers.fds = append(s.wakers.fds[:i], s.wakers.fds[i+1:]...)
			break
		}
	}
	s.deregisterWaker(fd)
}

// Wake makes the Selector report the Waker's token. It never blocks and
// never allocates. It returns ErrClosed after the Waker's Close, and after
// the Close of the Selector it was made with (even while a clone of that
// Selector is open: make a Waker on the clone to wake it).
func (w *Waker) Wake() error {
	if w == nil || w.sel.closed() {
		return ErrClosed
	}
	if !w.ref.take() {
		w.ref.acquireFailed()
		return ErrClosed
	}
	one := wakeOne // the eventfd counter is a native-endian uint64
	_, errno := rawsys.Write(w.ref.fd, one[:])
	if errno != 0 {
		return w.wakeFailed(errno) // releases
	}
	w.ref.release()
	return nil
}

var wakeOne = [8]byte{1}

// wakeFailed is Wake's cold path, out of line so that the hot one stays
// a write between the reference's two atomic adds (no defer). It releases
// the reference Wake took.
//
//go:noinline
func (w *Waker) wakeFailed(errno syscall.Errno) error {
	defer w.ref.release()
	for range 2 {
		if errno != syscall.EAGAIN {
			return opError("wake", w.ref.fd, errno)
		}
		// The counter is at its maximum, 2^64-2 (eventfd(2)): reset it by
		// reading and write again, so the wake still produces an edge.
		var drain [8]byte
		rawsys.Read(w.ref.fd, drain[:])
		one := wakeOne
		if _, errno = rawsys.Write(w.ref.fd, one[:]); errno == 0 {
			return nil
		}
	}
	return opError("wake", w.ref.fd, syscall.EAGAIN)
}

// Close deregisters the Waker and closes its eventfd, whether or not its
// Selector is still open. It is idempotent; Wake after Close returns
// ErrClosed. A Waker outliving its Selector holds only its eventfd: close
// it too.
func (w *Waker) Close() error {
	if w == nil {
		return nil
	}
	if w.ref.acquire() {
		w.sel.forgetWaker(w.ref.fd)
		w.ref.release()
	}
	return w.ref.close()
}
