//go:build darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package selector

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// Waker wakes a Selector from another goroutine: Wake makes the Selector
// report an event with the Waker's token; wakes coalesce; a Selector may
// have several Wakers.
//
// On kqueue a Waker is an EVFILT_USER event with an identifier of its own
// (darwin, FreeBSD, DragonFly, NetBSD 10+), triggered with NOTE_TRIGGER and
// cleared by EV_CLEAR when reported. Where the OS has no EVFILT_USER
// (OpenBSD, older NetBSD) it is a non-blocking pipe whose read end is
// registered for reading.
type Waker struct {
	sel   *Selector
	ident uint64 // EVFILT_USER identifier; 0 in pipe mode
	w     fdRef  // pipe mode: the write end; user mode: fd -1, closed state only
	r     int    // pipe mode: the read end
}

// NewWaker creates a Waker whose events carry token t, registered with s.
func NewWaker(s *Selector, t Token) (*Waker, error) {
	if s == nil {
		return nil, ErrNilSelector
	}
	k := &rawsys.Kq
	if k.EVFILT_USER != rawsys.NoFilter {
		ident := userIdent.Add(1)
		var ch [1]rawsys.Kevent_t
		ch[0].Set(ident, k.EVFILT_USER, k.EV_ADD|k.EV_CLEAR|k.EV_RECEIPT, 0, 0, uint64(t))
		err := s.submit("new waker", -1, ch[:], 0, 0)
		if err == nil {
			w := &Waker{sel: s, ident: ident, r: -1}
			w.w.init(-1)
			return w, nil
		}
		// NetBSD before 10 has no EVFILT_USER and refuses it with EINVAL:
		// fall back to a pipe.
		if !isErrno(err, syscall.EINVAL) {
			return nil, err
		}
	}
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return nil, &OpError{Op: "new waker", Fd: -1, Err: err}
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return nil, &OpError{Op: "new waker", Fd: fd, Err: err}
		}
	}
	if err := s.Register(p[0], t, Readable); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, err
	}
	w := &Waker{sel: s, r: p[0]}
	w.w.init(p[1])
	return w, nil
}

func isErrno(err error, e syscall.Errno) bool {
	op, ok := err.(*OpError)
	return ok && op.Err == e
}

// Wake makes the Selector report the Waker's token. It never blocks.
func (w *Waker) Wake() error {
	if w == nil || !w.w.acquire() {
		return ErrClosed
	}
	defer w.w.release()
	if w.ident != 0 {
		k := &rawsys.Kq
		var ch [1]rawsys.Kevent_t
		ch[0].Set(w.ident, k.EVFILT_USER, k.EV_RECEIPT, k.NOTE_TRIGGER, 0, 0)
		return w.sel.submit("wake", -1, ch[:], 0, 0)
	}
	one := []byte{1}
	for range 2 {
		_, err := unix.Write(w.w.fd, one)
		if err != unix.EAGAIN {
			if err != nil {
				return &OpError{Op: "wake", Fd: w.w.fd, Err: err}
			}
			return nil
		}
		// The pipe is full: the wake is pending, but empty the pipe so
		// that this write makes a new edge for EV_CLEAR.
		var buf [512]byte
		for range 256 {
			if n, _ := unix.Read(w.r, buf[:]); n <= 0 {
				break
			}
		}
	}
	return &OpError{Op: "wake", Fd: w.w.fd, Err: syscall.EAGAIN}
}

// Close removes the Waker from its Selector (if still open) and releases
// its pipe, if any. It is idempotent; Wake after Close returns ErrClosed.
func (w *Waker) Close() error {
	if w == nil {
		return nil
	}
	if !w.w.acquire() {
		return nil
	}
	if w.ident != 0 {
		k := &rawsys.Kq
		var ch [1]rawsys.Kevent_t
		ch[0].Set(w.ident, k.EVFILT_USER, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
		w.sel.submit("close waker", -1, ch[:], syscall.ENOENT, 0)
	} else {
		w.sel.Deregister(w.r)
		unix.Close(w.r)
	}
	w.w.release()
	if w.ident != 0 {
		w.w.state.Or(refClosed) // no descriptor of its own to close
		return nil
	}
	return w.w.close()
}
