//go:build darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package selector

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// The kqueue backend (darwin, FreeBSD 12+, NetBSD 10+, OpenBSD,
// DragonFly; amd64 and arm64), after mio's src/sys/unix/selector/
// kqueue.rs: one filter per interest, EV_CLEAR for edge triggering, and
// every change submitted with EV_RECEIPT so that each filter's result is
// checked. Where the kernels differ, the decision comes from this OS's row
// of kqKernels (kqueue_kernels.go), which cites the kernel source.

// sysEvent is the kernel record the Events buffer holds: struct kevent in
// this OS's layout.
type sysEvent = rawsys.Kevent_t

const maxEvents = 1<<31 - 1

// kqThis is this OS's row of the behaviour table; every kqueue OS has one
// (TestKqKernelTable).
var kqThis = kqKernelFor(rawsys.Kq.OS)

// Selector is a kqueue, close-on-exec from its creation. The zero Selector
// is closed: every method returns ErrClosed (Close, nil) without a system
// call.
type Selector struct {
	ref fdRef

	// The knotes this handle added to a kqueue that clones may share,
	// deleted by deleteOwn when its descriptor is finally closed.
	wakeIdent  uint64 // Close's wake-up, or 0
	wakeFilter int32
	mu         sync.Mutex
	wakers     map[*Waker]struct{} // open Wakers made with this handle
}

var (
	// kqNoCloexecCall is set once KqueueCloexec answered ENOSYS.
	kqNoCloexecCall atomic.Bool
	// kqReceiptsOK is set once a kqueue answered the EV_RECEIPT probe.
	kqReceiptsOK atomic.Bool
	// kqNoUserFilter is set once the kernel refused EVFILT_USER (OpenBSD
	// before 7.8): Wakers use a pipe and Close a timer.
	kqNoUserFilter atomic.Bool
)

// New creates a Selector. The kqueue is close-on-exec atomically where the
// kernel can (kqueuex on FreeBSD 13.3/14+, kqueue1 on NetBSD). Elsewhere
// (darwin, OpenBSD, DragonFly, older FreeBSD) FD_CLOEXEC is set right after
// kqueue(2), with syscall.ForkLock held for reading, the standard
// library's rule for descriptors made close-on-exec in two steps
// (syscall/exec_unix.go): os/exec and syscall.ForkExec cannot fork in
// between. The first New of a process also checks that kevent answers
// EV_RECEIPT (NetBSD before 10 does not, and is refused). Options name
// no other backend here: a known name in WithBackend is accepted and
// ignored, an unknown one is ErrUnknownBackend.
func New(opts ...Option) (*Selector, error) {
	if _, err := applyOptions(opts, nil); err != nil {
		return nil, err
	}
	kq, errno := -1, syscall.ENOSYS
	if !kqNoCloexecCall.Load() {
		kq, errno = rawsys.KqueueCloexec()
		if errno == syscall.ENOSYS {
			kqNoCloexecCall.Store(true)
		}
	}
	if errno == syscall.ENOSYS {
		syscall.ForkLock.RLock()
		kq, errno = rawsys.Kqueue()
		if errno == 0 {
			unix.CloseOnExec(kq)
		}
		syscall.ForkLock.RUnlock()
	}
	if errno != 0 {
		return nil, opError("new", -1, errno)
	}
	if !kqReceiptsOK.Load() {
		if err := kqProbe(kq); err != nil {
			closeFd(kq)
			return nil, err
		}
		kqReceiptsOK.Store(true)
	}
	return newSelector(kq), nil
}

func newSelector(fd int) *Selector {
	s := &Selector{}
	s.ref.init(fd)
	s.ref.before = s.deleteOwn
	return s
}

// deleteOwn runs when the descriptor is finally closed (fdRef.before: it
// is still open, and no call holds it): it deletes what this handle added
// to the kqueue, which a clone may keep open. Close's wake-up, so that the
// clone's Selects stop seeing it; and the knotes of the Wakers made with
// this handle, which answer ErrClosed from now on, so that a wake still
// pending is not reported to the clone with their token.
func (s *Selector) deleteOwn() {
	k := &rawsys.Kq
	var zero rawsys.Timespec
	var del [1]rawsys.Kevent_t
	if s.wakeIdent != 0 {
		del[0].Set(s.wakeIdent, s.wakeFilter, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
		rawsys.KeventRaw(s.ref.fd, &del[0], 1, &del[0], 1, &zero)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.wakers {
		switch {
		case w.ident != 0:
			del[0].Set(w.ident, k.EVFILT_USER, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
		case w.r.acquire(): // the read end is still open: its number is still its own
			del[0].Set(uint64(w.r.fd), k.EVFILT_READ, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
			defer w.r.release()
		default:
			continue
		}
		rawsys.KeventRaw(s.ref.fd, &del[0], 1, &del[0], 1, &zero)
	}
	s.wakers = nil
}

// kqProbe checks, on a new kqueue nothing else can see, that kevent
// answers EV_RECEIPT with one record per change (kqProbeChanges).
func kqProbe(kq int) error {
	var ch [2]rawsys.Kevent_t
	for i, x := range kqProbeChanges(&rawsys.Kq) {
		setChange(&ch[i], x)
	}
	var zero rawsys.Timespec
	n, errno := rawsys.KeventRaw(kq, &ch[0], len(ch), &ch[0], len(ch), &zero)
	if errno != 0 {
		return opError("new", -1, errno)
	}
	_, err := receipts("new", -1, ch[:], n, 0, 0)
	return err
}

// setChange copies a change built by the kqueue_kernels.go functions into
// a record.
func setChange(rec *rawsys.Kevent_t, x kqChange) {
	rec.Set(x.ident, x.filter, x.flags, x.fflags, x.data, x.udata)
}

// receipts checks the records of a change list of at most two changes
// after a kevent call that returned n (kqCheckReceipts).
func receipts(op string, fd int, ch []rawsys.Kevent_t, n int, ignore1, ignore2 syscall.Errno) (uint32, error) {
	var recs [2]kqRec
	for i := range ch {
		recs[i] = kqRec{filter: ch[i].Filter(), flags: ch[i].Flags(), data: ch[i].Data()}
	}
	return kqCheckReceipts(&rawsys.Kq, op, fd, recs[:len(ch)], n, ignore1, ignore2)
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
// in another goroutine on this Selector is woken and returns ErrClosed,
// and the descriptor is closed when the last call in flight returns. A
// clone sharing the kqueue sees nothing of it.
func (s *Selector) Close() error {
	if s == nil {
		return nil
	}
	return s.ref.closeWaking(s.wakeBlocked)
}

// kqCloseIdents numbers Close wake-ups: each is its own knote, so that
// two handles of one kqueue closing at once never delete each other's.
var kqCloseIdents atomic.Uint64

// kqCloseWakesMade is set before the first Close wake-up of the process
// is added. From then on every Select removes Close wake-ups from what
// the kernel returned. It is never cleared: a counter decremented when a
// wake-up is deleted could reach zero while a clone's Select still holds
// that wake-up's event in its buffer, and the check is one compare per
// event.
var kqCloseWakesMade atomic.Bool

// wakeBlocked makes every kevent wait on this kqueue return, so that the
// Selects blocked on this Selector see it closed. The kqueue may be shared
// with clones, which must not see the wake-up: it is a knote with an
// identifier at or above kqCloseIdentBase, which no registration can have
// (kqIsCloseWake), and every Select drops such events. It is deleted
// (deleteOwn) when this Selector's descriptor is finally closed, after the
// last call in flight on it has returned.
//
// Where the OS has EVFILT_USER the knote is one, level-triggered (no
// EV_CLEAR) so that every waiter sees it, created and then triggered as
// two changes: FreeBSD and NetBSD clear fflags before f_attach, so an
// EV_ADD carrying NOTE_TRIGGER is born untriggered there (kqKernel
// triggerOnAdd; the Go runtime's netpoll_kqueue_event.go does the same).
// Without EVFILT_USER (OpenBSD before 7.8) it is a 1 ms periodic timer,
// which wakes the waiters one expiry at a time. Best effort, as on epoll.
func (s *Selector) wakeBlocked() {
	c := &rawsys.Kq
	ident := kqCloseIdentBase | kqCloseIdents.Add(1)
	kqCloseWakesMade.Store(true) // before any waiter can see the event
	var zero rawsys.Timespec
	var ch [2]rawsys.Kevent_t
	filter := c.EVFILT_TIMER
	if !kqNoUserFilter.Load() {
		for i, x := range kqCloseWakeUser(c, ident) {
			setChange(&ch[i], x)
		}
		n, _ := rawsys.KeventRaw(s.ref.fd, &ch[0], 2, &ch[0], 2, &zero)
		switch ok, _ := receipts("", -1, ch[:], n, 0, 0); {
		case ok == 3: // added and triggered
			filter = c.EVFILT_USER
		case ok&1 != 0: // added, not triggered: remove it, use the timer
			ch[0].Set(ident, c.EVFILT_USER, c.EV_DELETE|c.EV_RECEIPT, 0, 0, 0)
			rawsys.KeventRaw(s.ref.fd, &ch[0], 1, &ch[0], 1, &zero)
		case n == 2 && ch[0].Data() == int64(syscall.EINVAL):
			kqNoUserFilter.Store(true) // OpenBSD before 7.8
		}
	}
	if filter == c.EVFILT_TIMER {
		ch[0].Set(ident, c.EVFILT_TIMER, c.EV_ADD|c.EV_RECEIPT, 0, 1, 0)
		n, _ := rawsys.KeventRaw(s.ref.fd, &ch[0], 1, &ch[0], 1, &zero)
		if ok, _ := receipts("", -1, ch[:1], n, 0, 0); ok == 0 {
			return
		}
	}
	s.wakeIdent, s.wakeFilter = ident, filter // deleted by deleteOwn
}

// TryClone returns a Selector on the same kqueue through a new descriptor
// with FD_CLOEXEC (fcntl F_DUPFD_CLOEXEC).
func (s *Selector) TryClone() (*Selector, error) {
	if s == nil || !s.ref.acquire() {
		return nil, ErrClosed
	}
	fd, err := dupCloexec(s.ref.fd)
	s.ref.release()
	if err != nil {
		return nil, err
	}
	return newSelector(fd), nil
}

// closed reports whether Close has been called, so that every method
// answers ErrClosed after it whatever its arguments.
func (s *Selector) closed() bool { return s == nil || s.ref.isClosed() }

// Register starts watching fd. Readable adds EVFILT_READ and Writable
// EVFILT_WRITE, both EV_CLEAR. AIO (FreeBSD, DragonFly) and LIO (FreeBSD)
// add no filter here: an aio request reports through the kqueue named in
// its sigevent (SIGEV_KEVENT with Fd() and the token as the value), as in
// mio; darwin refuses AIO, which its kernel can never deliver. Registering
// an fd twice updates it (EV_ADD modifies an existing filter). A Register
// that fails leaves none of the filters it asked for: one added before
// the other failed is deleted again. On darwin the EPIPE of a pipe whose
// reader is gone is ignored: the filter is registered and reports EV_EOF
// (tokio-rs/mio#582). Elsewhere the kernel registered nothing, and
// Register returns that error: the write side is closed.
func (s *Selector) Register(fd int, t Token, in Interest) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("register", fd, syscall.EBADF)
	}
	if err := kqInterestErr(kqThis, &rawsys.Kq, in); err != nil {
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
	ok, err := s.submit("register", fd, ch[:n], kqTolerated(kqThis), 0)
	if err != nil && ok != 0 {
		// The receipts keep each change's filter: delete the ones added.
		var del [2]rawsys.Kevent_t
		m := 0
		for i := range ch[:n] {
			if ok&(1<<i) != 0 {
				del[m].Set(uint64(fd), ch[i].Filter(), k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
				m++
			}
		}
		s.submit("register", fd, del[:m], syscall.ENOENT, 0)
	}
	return err
}

// Reregister replaces fd's token and interests: each of EVFILT_READ and
// EVFILT_WRITE is added or deleted, and a delete of a filter that was not
// there (ENOENT) is ignored, as is darwin's EPIPE (see Register). When one
// change fails the other may have been applied; Deregister then leaves a
// known state.
func (s *Selector) Reregister(fd int, t Token, in Interest) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("reregister", fd, syscall.EBADF)
	}
	if err := kqInterestErr(kqThis, &rawsys.Kq, in); err != nil {
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
	_, err := s.submit("reregister", fd, ch[:], syscall.ENOENT, kqTolerated(kqThis))
	return err
}

// Deregister deletes fd's filters. A filter that was not registered
// (ENOENT) is not an error, so deregistering an fd that is not registered
// succeeds; a closed fd fails with EBADF on every kqueue OS (on darwin,
// whose EV_DELETE answers ENOENT for it, the descriptor table is asked).
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
	if _, err := s.submit("deregister", fd, ch[:], syscall.ENOENT, 0); err != nil {
		return err
	}
	if kqDeregisterAsksFd(kqThis, ch[0].Data(), ch[1].Data()) {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			return opError("deregister", fd, syscall.EBADF)
		}
	}
	return nil
}

// submit applies a change list with EV_RECEIPT and checks the receipts
// (kqCheckReceipts): one EV_ERROR record per change, data the errno (0
// for success), so each filter's result is checked and an error names the
// fd and the filter. It returns the set of changes that took effect. The
// call has a zero timeout and is raw: a change list never waits for an
// event (see rawsys.KeventRaw for the short sleeps it may take).
func (s *Selector) submit(op string, fd int, ch []rawsys.Kevent_t, ignore1, ignore2 syscall.Errno) (uint32, error) {
	if len(ch) == 0 {
		return 0, nil
	}
	if s == nil || !s.ref.acquire() {
		return 0, ErrClosed
	}
	var zero rawsys.Timespec
	n, errno := rawsys.KeventRaw(s.ref.fd, &ch[0], len(ch), &ch[0], len(ch), &zero)
	s.ref.release()
	if errno == syscall.EINTR {
		// kevent(2) (FreeBSD): "When kevent() call fails with EINTR error,
		// all changes in the changelist have been applied": check the
		// records; one the kernel did not overwrite lacks EV_ERROR.
		n = len(ch)
	} else if errno != 0 {
		return 0, opError(op, fd, errno)
	}
	return receipts(op, fd, ch, n, ignore1, ignore2)
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
// precision; one beyond kqMaxWait (1e6 s; darwin refuses more than 1e8 s
// with EINVAL) is waited out in several kevent calls (kqWaitLoop). A zero
// timeout is one raw kevent call; a wait that can sleep tells the
// scheduler.
func (s *Selector) Select(ev *Events, timeout time.Duration) error {
	if ev == nil || len(ev.buf) == 0 {
		ev.Clear()
		return ErrNoCapacity
	}
	ev.n = 0
	if s == nil || !s.ref.acquire() {
		return ErrClosed
	}
	var n int
	var errno syscall.Errno
	if timeout == 0 {
		var zero rawsys.Timespec
		n, errno = rawsys.KeventRaw(s.ref.fd, nil, 0, &ev.buf[0], len(ev.buf), &zero)
		if errno == 0 && n > 0 && kqCloseWakesMade.Load() {
			n = kqDropCloseWakes(&rawsys.Kq, ev.buf, n)
		} else if errno == syscall.EINTR {
			n, errno = s.wait(ev.buf, 0)
		}
	} else {
		n, errno = s.wait(ev.buf, timeout)
	}
	if s.ref.releaseClosed() { // closed while we waited: drop Close's wake-up
		return ErrClosed
	}
	if errno != 0 {
		return opError("select", s.Fd(), errno)
	}
	ev.n = n
	return nil
}

// wait runs kqWaitLoop with kevent: a zero timespec polls raw, any other
// wait tells the scheduler. Close wake-ups are removed; when they were all
// the kernel returned, the wait goes on (they are level-triggered: until
// that other handle's Close completes, waits return at once, so yield
// meanwhile), unless this Selector is closed itself.
func (s *Selector) wait(buf []sysEvent, timeout time.Duration) (int, syscall.Errno) {
	fd, p, max := s.ref.fd, &buf[0], len(buf)
	var deadline int64
	if timeout > 0 {
		deadline = deadlineAfter(timeout)
	}
	return kqWaitLoop(timeout, deadline, nanotime, func(ts *rawsys.Timespec) (int, syscall.Errno, bool) {
		var n int
		var errno syscall.Errno
		if ts != nil && *ts == (rawsys.Timespec{}) {
			n, errno = rawsys.KeventRaw(fd, nil, 0, p, max, ts)
		} else {
			n, errno = rawsys.Kevent(fd, nil, 0, p, max, ts)
		}
		if errno != 0 {
			return 0, errno, errno != syscall.EINTR
		}
		if n > 0 && kqCloseWakesMade.Load() {
			if n = kqDropCloseWakes(&rawsys.Kq, buf, n); n == 0 {
				if s.ref.isClosed() {
					return 0, 0, true
				}
				runtime.Gosched()
			}
		}
		return n, 0, n > 0
	})
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

// StopRecv returns ErrRingOnly: receives through the ring need io_uring.
func (s *Selector) StopRecv(fd int) error {
	if s.closed() {
		return ErrClosed
	}
	return ErrRingOnly
}
