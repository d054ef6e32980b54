//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package selector

import (
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// The kqueue backend (darwin, FreeBSD, NetBSD 10+, OpenBSD, DragonFly),
// after mio's src/sys/unix/selector/kqueue.rs: one filter per interest,
// EV_CLEAR for edge triggering, and every change submitted with EV_RECEIPT
// so that each filter's result is checked.

// sysEvent is the kernel record the Events buffer holds: struct kevent in
// this OS's layout.
type sysEvent = rawsys.Kevent_t

const maxEvents = 1<<31 - 1

// Selector is a kqueue, made close-on-exec at creation.
type Selector struct {
	ref fdRef
}

// New creates a Selector (kqueue(2), then FD_CLOEXEC; NetBSD's kqueue1
// sets it atomically). Elsewhere a fork in another thread between the two
// calls could inherit the descriptor, as with Go's own netpoller.
func New(opts ...Option) (*Selector, error) {
	fd, errno := rawsys.Kqueue()
	if errno != 0 {
		return nil, opError("new", -1, errno)
	}
	unix.CloseOnExec(fd)
	s := &Selector{}
	s.ref.init(fd)
	return s, nil
}

// Backend names the kernel mechanism: "kqueue".
func (s *Selector) Backend() string { return "kqueue" }

// Fd returns the kqueue descriptor, or -1 after Close.
func (s *Selector) Fd() int {
	if s == nil {
		return -1
	}
	return s.ref.fdOrMinus1()
}

// Close closes the kqueue. It is idempotent. As on epoll, a Select blocked
// in another goroutine is woken and returns ErrClosed, and the descriptor
// is closed when the last call in flight returns.
func (s *Selector) Close() error {
	if s == nil {
		return nil
	}
	return s.ref.closeWaking(s.wakeBlocked)
}

// wakeBlocked makes every kevent wait on this kqueue return: an
// EVFILT_USER event triggered at once and never cleared where the OS has
// the filter, else a pipe holding a byte, registered level-triggered (its
// read end is closed with the kqueue). Best effort, as on epoll.
func (s *Selector) wakeBlocked() {
	k := &rawsys.Kq
	var zero rawsys.Timespec
	var ch [1]rawsys.Kevent_t
	if k.EVFILT_USER != rawsys.NoFilter {
		ch[0].Set(^uint64(0), k.EVFILT_USER, k.EV_ADD|k.EV_RECEIPT, k.NOTE_TRIGGER, 0, 0)
		if _, errno := rawsys.KeventRaw(s.ref.fd, &ch[0], 1, &ch[0], 1, &zero); errno == 0 && ch[0].Data() == 0 {
			return
		}
	}
	var p [2]int
	if unix.Pipe(p[:]) != nil {
		return
	}
	unix.Write(p[1], []byte{1})
	unix.Close(p[1])
	ch[0].Set(uint64(p[0]), k.EVFILT_READ, k.EV_ADD|k.EV_RECEIPT, 0, 0, 0)
	if _, errno := rawsys.KeventRaw(s.ref.fd, &ch[0], 1, &ch[0], 1, &zero); errno != 0 || ch[0].Data() != 0 {
		unix.Close(p[0])
		return
	}
	s.ref.also = p[0]
}

// TryClone returns a Selector on the same kqueue through a new descriptor
// with FD_CLOEXEC.
func (s *Selector) TryClone() (*Selector, error) {
	if s == nil || !s.ref.acquire() {
		return nil, ErrClosed
	}
	fd, err := dupCloexec(s.ref.fd)
	s.ref.release()
	if err != nil {
		return nil, err
	}
	c := &Selector{}
	c.ref.init(fd)
	return c, nil
}

// closed reports whether Close has been called, so that every method
// answers ErrClosed after it whatever its arguments.
func (s *Selector) closed() bool { return s == nil || s.ref.isClosed() }

func kqCheckInterest(in Interest) error {
	if err := checkDefined(in); err != nil {
		return err
	}
	if in&Priority != 0 ||
		in&AIO != 0 && rawsys.Kq.EVFILT_AIO == rawsys.NoFilter ||
		in&LIO != 0 && rawsys.Kq.EVFILT_LIO == rawsys.NoFilter {
		return ErrUnsupportedInterest
	}
	return nil
}

// Register starts watching fd. Readable adds EVFILT_READ and Writable
// EVFILT_WRITE, both EV_CLEAR. AIO and LIO (where the OS has the filters)
// add no filter here: an aio request reports through the kqueue named in
// its sigevent (SIGEV_KEVENT with Fd() and the token as the value), as in
// mio. Registering an fd twice updates it (kqueue's EV_ADD modifies an
// existing filter). EPIPE is ignored: older macOS report it for a pipe
// whose other end is gone, yet deliver its events (tokio-rs/mio#582).
func (s *Selector) Register(fd int, t Token, in Interest) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("register", fd, syscall.EBADF)
	}
	if err := kqCheckInterest(in); err != nil {
		return err
	}
	k := &rawsys.Kq
	flags := k.EV_ADD | k.EV_CLEAR | k.EV_RECEIPT
	var ch [2]rawsys.Kevent_t
	n := 0
	if in&Writable != 0 {
		ch[n].Set(uint64(fd), k.EVFILT_WRITE, flags, 0, 0, uint64(t))
		n++
	}
	if in&Readable != 0 {
		ch[n].Set(uint64(fd), k.EVFILT_READ, flags, 0, 0, uint64(t))
		n++
	}
	return s.submit("register", fd, ch[:n], syscall.EPIPE, 0)
}

// Reregister replaces fd's token and interests: each of EVFILT_READ and
// EVFILT_WRITE is added or deleted, and a delete of a filter that was not
// there (ENOENT) is ignored, as is EPIPE (see Register).
func (s *Selector) Reregister(fd int, t Token, in Interest) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("reregister", fd, syscall.EBADF)
	}
	if err := kqCheckInterest(in); err != nil {
		return err
	}
	k := &rawsys.Kq
	base := k.EV_CLEAR | k.EV_RECEIPT
	wf, rf := base|k.EV_DELETE, base|k.EV_DELETE
	if in&Writable != 0 {
		wf = base | k.EV_ADD
	}
	if in&Readable != 0 {
		rf = base | k.EV_ADD
	}
	var ch [2]rawsys.Kevent_t
	ch[0].Set(uint64(fd), k.EVFILT_WRITE, wf, 0, 0, uint64(t))
	ch[1].Set(uint64(fd), k.EVFILT_READ, rf, 0, 0, uint64(t))
	return s.submit("reregister", fd, ch[:], syscall.ENOENT, syscall.EPIPE)
}

// Deregister deletes fd's filters. A filter that was not registered
// (ENOENT) is not an error, so deregistering an fd that is not registered
// succeeds; a closed fd fails with EBADF.
func (s *Selector) Deregister(fd int) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("deregister", fd, syscall.EBADF)
	}
	k := &rawsys.Kq
	var ch [2]rawsys.Kevent_t
	ch[0].Set(uint64(fd), k.EVFILT_WRITE, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
	ch[1].Set(uint64(fd), k.EVFILT_READ, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
	return s.submit("deregister", fd, ch[:], syscall.ENOENT, 0)
}

// submit applies a change list with EV_RECEIPT: the kernel returns every
// change as a record with EV_ERROR set and the errno (0 for success) in
// data, so each filter's result is checked and an error names the fd and
// the filter. The call has a zero timeout: a change list never waits.
func (s *Selector) submit(op string, fd int, ch []rawsys.Kevent_t, ignore1, ignore2 syscall.Errno) error {
	if len(ch) == 0 {
		return nil
	}
	if s == nil || !s.ref.acquire() {
		return ErrClosed
	}
	var zero rawsys.Timespec
	_, errno := rawsys.KeventRaw(s.ref.fd, &ch[0], len(ch), &ch[0], len(ch), &zero)
	s.ref.release()
	// kevent(2) (FreeBSD): "When kevent() call fails with EINTR error, all
	// changes in the changelist have been applied": check the receipts.
	if errno != 0 && errno != syscall.EINTR {
		return opError(op, fd, errno)
	}
	k := &rawsys.Kq
	for i := range ch {
		e := syscall.Errno(ch[i].Data())
		if ch[i].Flags()&k.EV_ERROR != 0 && e != 0 && e != ignore1 && e != ignore2 {
			return &OpError{Op: op + " " + kqFilterName(k, ch[i].Filter()), Fd: fd, Err: e}
		}
	}
	return nil
}

// WouldBlock reports that fd is drained in the directions in; see the
// epoll backend. On kqueue EV_CLEAR re-arms in the kernel, so this only
// checks its arguments.
func (s *Selector) WouldBlock(fd int, in Interest) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("would block", fd, syscall.EBADF)
	}
	return checkDefined(in)
}

// Select waits for events; see the epoll backend for the timeout rules.
// kevent takes a timespec, so every positive timeout has nanosecond
// precision.
func (s *Selector) Select(ev *Events, timeout time.Duration) error {
	if ev == nil || len(ev.buf) == 0 {
		ev.Clear()
		return ErrNoCapacity
	}
	ev.n = 0
	if s == nil || !s.ref.acquire() {
		return ErrClosed
	}
	n, errno := s.wait(ev.buf, timeout)
	if s.ref.releaseClosed() { // closed while we waited: drop Close's wake-up
		return ErrClosed
	}
	if errno != 0 {
		return opError("select", s.Fd(), errno)
	}
	ev.n = n
	return nil
}

func (s *Selector) wait(buf []sysEvent, timeout time.Duration) (int, syscall.Errno) {
	fd, p, max := s.ref.fd, &buf[0], len(buf)
	var zero rawsys.Timespec
	if timeout == 0 {
		for {
			n, errno := rawsys.KeventRaw(fd, nil, 0, p, max, &zero)
			if errno != syscall.EINTR {
				return n, errno
			}
		}
	}
	if timeout < 0 {
		for {
			n, errno := rawsys.Kevent(fd, nil, 0, p, max, nil)
			if errno != syscall.EINTR {
				return n, errno
			}
		}
	}
	deadline := deadlineAfter(timeout)
	for {
		ts := rawsys.Timespec{Sec: int64(timeout / time.Second), Nsec: int64(timeout % time.Second)}
		n, errno := rawsys.Kevent(fd, nil, 0, p, max, &ts)
		if errno != syscall.EINTR {
			return n, errno
		}
		if timeout = time.Duration(deadline - nanotime()); timeout <= 0 {
			for {
				n, errno = rawsys.KeventRaw(fd, nil, 0, p, max, &zero)
				if errno != syscall.EINTR {
					return n, errno
				}
			}
		}
	}
}

// SetBusyPoll returns ErrBusyPollUnsupported: busy polling is an epoll
// feature (EPIOCSPARAMS).
func (s *Selector) SetBusyPoll(usecs uint32, budget uint16, prefer bool) error {
	return ErrBusyPollUnsupported
}

// Token returns the token the event's fd (or Waker) was registered with:
// the kevent's udata.
func (e *Event) Token() Token { return Token((*rawsys.Kevent_t)(e).Udata()) }

func (e *Event) raw() *rawsys.Kevent_t { return (*rawsys.Kevent_t)(e) }

// IsReadable reports an EVFILT_READ event, or a Waker's EVFILT_USER.
func (e *Event) IsReadable() bool { return kqIsReadable(&rawsys.Kq, e.raw().Filter()) }

// IsWritable reports an EVFILT_WRITE event.
func (e *Event) IsWritable() bool { return kqIsWritable(&rawsys.Kq, e.raw().Filter()) }

// IsError reports EV_ERROR, or EV_EOF with the socket error in fflags.
func (e *Event) IsError() bool { return kqIsError(&rawsys.Kq, e.raw().Flags(), e.raw().Fflags()) }

// IsReadClosed reports EV_EOF on EVFILT_READ.
func (e *Event) IsReadClosed() bool {
	return kqIsReadClosed(&rawsys.Kq, e.raw().Filter(), e.raw().Flags())
}

// IsWriteClosed reports EV_EOF on EVFILT_WRITE.
func (e *Event) IsWriteClosed() bool {
	return kqIsWriteClosed(&rawsys.Kq, e.raw().Filter(), e.raw().Flags())
}

// IsPriority is always false: kqueue has no priority filter.
func (e *Event) IsPriority() bool { return false }

// IsAIO reports an EVFILT_AIO event (darwin, FreeBSD, DragonFly).
func (e *Event) IsAIO() bool { return kqIsAIO(&rawsys.Kq, e.raw().Filter()) }

// IsLIO reports an EVFILT_LIO event (FreeBSD).
func (e *Event) IsLIO() bool { return kqIsLIO(&rawsys.Kq, e.raw().Filter()) }

func (e *Event) details() string {
	k := e.raw()
	return kqDetails(&rawsys.Kq, k.Filter(), k.Flags(), k.Fflags(), k.Data())
}

// userIdent numbers the EVFILT_USER identifiers of Wakers, so several
// Wakers share a kqueue without sharing an identifier. EVFILT_USER
// identifiers are their own namespace, apart from fds, and events are told
// apart by token, never by ident 0.
var userIdent atomic.Uint64

// Send returns ErrRingOnly: sends through the ring need io_uring.
func (s *Selector) Send(fd int, t Token, p []byte) error {
	if s.closed() {
		return ErrClosed
	}
	return ErrRingOnly
}

// Recv returns ErrRingOnly: receives through the ring need io_uring.
func (s *Selector) Recv(fd int, t Token) error {
	if s.closed() {
		return ErrClosed
	}
	return ErrRingOnly
}
