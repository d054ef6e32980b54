//go:build darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package selector

import (
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// Waker wakes a Selector from another goroutine: Wake makes the Selector
// report an event with the Waker's token; wakes coalesce; a Selector may
// have several Wakers. The zero Waker is closed.
//
// On kqueue a Waker is an EVFILT_USER knote with an identifier of its own
// (darwin, FreeBSD, DragonFly, NetBSD 10+, OpenBSD 7.8+), registered with
// EV_CLEAR, and every Wake triggers it with NOTE_TRIGGER and the token:
// darwin, FreeBSD, NetBSD and OpenBSD copy udata from every change into
// the knote (kqKernel udataOnModify), so a trigger without the token would
// make the next event report token 0. Where the kernel refuses EVFILT_USER
// (OpenBSD before 7.8) it is a non-blocking, close-on-exec pipe whose read
// end is registered for reading.
//
// Wake on a Waker whose Selector (the handle it was made with) has been
// closed returns ErrClosed, on every backend: the Waker belongs to that
// handle, even while a clone keeps the kqueue open.
type Waker struct {
	sel   *Selector
	tok   Token
	ident uint64 // EVFILT_USER identifier; 0 in pipe mode
	// w: pipe mode, the write end; EVFILT_USER mode, no descriptor (fd -1)
	// but the closed state, and the knote is deleted (before) once Close
	// was called and no Wake holds it, so a Wake racing Close never meets
	// a deleted knote (ENOENT).
	w fdRef
	// r: pipe mode, the read end, which Wake drains when the pipe is
	// full; closing it removes its registration (kqueue(2): closing a
	// descriptor removes its knotes).
	r fdRef
}

// userIdent numbers the EVFILT_USER identifiers of Wakers, so several
// Wakers share a kqueue without sharing an identifier. They stay below
// kqCloseIdentBase, where Close wake-ups are.
var userIdent atomic.Uint64

// NewWaker creates a Waker whose events carry token t, registered with s.
func NewWaker(s *Selector, t Token) (*Waker, error) {
	if s == nil {
		return nil, ErrNilSelector
	}
	if s.closed() {
		return nil, ErrClosed
	}
	k := &rawsys.Kq
	if !kqNoUserFilter.Load() {
		ident := userIdent.Add(1)
		if ident >= kqCloseIdentBase {
			return nil, opError("new waker", -1, syscall.ENOSPC)
		}
		var ch [1]rawsys.Kevent_t
		setChange(&ch[0], kqWakerAdd(k, ident, t))
		_, err := s.submit("new waker", -1, ch[:], 0, 0)
		if err == nil {
			w := &Waker{sel: s, tok: t, ident: ident}
			w.w.init(-1)
			w.w.before = w.deleteKnote
			if err := s.own(w); err != nil {
				return nil, err
			}
			return w, nil
		}
		// OpenBSD before 7.8 has no EVFILT_USER and refuses it with
		// EINVAL (NetBSD 9, the other such kernel, is refused by New).
		if !isErrno(err, syscall.EINVAL) {
			return nil, err
		}
		kqNoUserFilter.Store(true)
	}
	r, wr, err := kqPipe()
	if err != nil {
		return nil, err
	}
	if err := s.Register(r, t, Readable); err != nil {
		closeFd(r)
		closeFd(wr)
		return nil, err
	}
	w := &Waker{sel: s, tok: t}
	w.r.init(r)
	w.w.init(wr)
	if err := s.own(w); err != nil {
		return nil, err
	}
	return w, nil
}

// own records w as made with s, for s.deleteOwn; ErrClosed (and w closed)
// if s was closed meanwhile.
func (s *Selector) own(w *Waker) error {
	s.mu.Lock()
	closed := s.ref.isClosed()
	if !closed {
		if s.wakers == nil {
			s.wakers = map[*Waker]struct{}{}
		}
		s.wakers[w] = struct{}{}
	}
	s.mu.Unlock()
	if closed {
		w.Close()
		return ErrClosed
	}
	return nil
}

func isErrno(err error, e syscall.Errno) bool {
	op, ok := err.(*OpError)
	return ok && op.Err == e
}

// deleteKnote removes an EVFILT_USER Waker's knote, if its Selector is
// still open (else the Selector's deleteOwn removed it).
func (w *Waker) deleteKnote() {
	k := &rawsys.Kq
	var ch [1]rawsys.Kevent_t
	ch[0].Set(w.ident, k.EVFILT_USER, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
	w.sel.submit("close waker", -1, ch[:], syscall.ENOENT, 0)
}

// Wake makes the Selector report the Waker's token. It never blocks. It
// returns ErrClosed after Close, and after Close of the Waker's Selector.
func (w *Waker) Wake() error {
	if w == nil || !w.w.acquire() {
		return ErrClosed
	}
	defer w.w.release()
	if w.sel.closed() {
		return ErrClosed
	}
	if w.ident != 0 {
		var ch [1]rawsys.Kevent_t
		setChange(&ch[0], kqWakerTrigger(&rawsys.Kq, w.ident, w.tok))
		_, err := w.sel.submit("wake", -1, ch[:], 0, 0)
		return err
	}
	if !w.r.acquire() {
		return ErrClosed
	}
	defer w.r.release()
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
			if n, _ := unix.Read(w.r.fd, buf[:]); n <= 0 {
				break
			}
		}
	}
	return &OpError{Op: "wake", Fd: w.w.fd, Err: syscall.EAGAIN}
}

// Close removes the Waker from its Selector (if still open) and releases
// its pipe, if any, once no Wake is using them. It is idempotent, also
// when called concurrently; Wake after Close returns ErrClosed.
func (w *Waker) Close() error {
	if w == nil {
		return nil
	}
	if w.sel != nil {
		w.sel.mu.Lock()
		delete(w.sel.wakers, w)
		w.sel.mu.Unlock()
	}
	err := w.w.close()
	if w.ident == 0 {
		w.r.close() // and with it its registration
	}
	return err
}
