//go:build linux && rawpoll_forcepoll

package selector

// The poll(2) backend (ppoll on Linux; arm64 has no poll syscall), after
// mio's src/sys/unix/selector/poll.rs, with three of its bugs fixed:
//
//   - A Wake racing a Register or Deregister is never lost (mio #1874):
//     each Waker has its own eventfd in the poll set, separate from the
//     internal eventfd that interrupts a blocked Select for a change.
//   - An fd that reported POLLHUP or POLLERR stays registered (mio PR
//     #2012): poll reports those whatever events asks for, so the entry is
//     suspended (pollfd.fd = -1, which poll(2) skips) instead of removed,
//     and Deregister and Reregister keep working.
//   - POLLNVAL (the fd was closed while registered) is reported as an
//     error event instead of being dropped, then suspended likewise.
//
// Edge triggering is emulated as mio does: once an entry's readiness is
// reported, the interests that fired are removed from pollfd.events until
// the application reports EAGAIN with WouldBlock, or reregisters.

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// sysEvent is the poll backend's event record: the token and the revents
// poll(2) wrote.
type sysEvent = pollEvent

type pollEvent struct {
	token   uint64
	revents uint16
}

const maxEvents = 1<<31 - 1

// pollfd flags, as uint16 (rawsys.PollFd's fields are int16).
const (
	pollIn    = rawsys.POLLIN
	pollPri   = rawsys.POLLPRI
	pollOut   = rawsys.POLLOUT
	pollErr   = rawsys.POLLERR
	pollHup   = rawsys.POLLHUP
	pollNval  = rawsys.POLLNVAL
	pollRdhup = rawsys.POLLRDHUP

	// pollTerminal are reported whatever pollfd.events says, so they
	// cannot be disarmed: an entry that reports one is suspended.
	pollTerminal = pollErr | pollHup | pollNval
)

// Selector is a set of registrations polled with poll(2). Clones made by
// TryClone share the set.
type Selector struct {
	st     *pollState
	closed atomic.Bool
}

type pollReg struct {
	fd       int32
	token    Token
	interest Interest
	waker    bool // a Waker's eventfd: drained when reported, never disarmed
}

type pollState struct {
	ref     fdRef        // the internal eventfd that interrupts a blocked Select
	handles atomic.Int32 // Selectors sharing this state that are not closed
	closing atomic.Bool  // the last handle is closing: blocked Selects return

	pending atomic.Int32 // changes waiting for mu
	mu      sync.Mutex   // held by Select across ppoll, and by every change
	idle    sync.Cond    // pending dropped to 0

	fds   []rawsys.PollFd // fds[0] is the internal eventfd
	regs  []pollReg       // parallel to fds
	index map[int32]int   // fd -> position in fds
	start int             // where the next scan of revents begins (rotation)
}

// New creates a poll-based Selector with its internal eventfd
// (EFD_CLOEXEC|EFD_NONBLOCK).
func New() (*Selector, error) {
	efd, errno := rawsys.Eventfd2(0, rawsys.EFD_CLOEXEC|rawsys.EFD_NONBLOCK)
	if errno != 0 {
		return nil, opError("new", -1, errno)
	}
	st := &pollState{index: map[int32]int{}}
	st.ref.init(efd)
	st.idle.L = &st.mu
	st.fds = append(st.fds, rawsys.PollFd{Fd: int32(efd), Events: pollIn})
	st.regs = append(st.regs, pollReg{fd: int32(efd)})
	st.handles.Store(1)
	return &Selector{st: st}, nil
}

// Backend names the kernel mechanism: "poll".
func (s *Selector) Backend() string { return "poll" }

// Fd returns -1: a poll selector has no descriptor that stands for its
// registrations.
func (s *Selector) Fd() int { return -1 }

// Close releases this Selector. The shared state (and its internal
// eventfd) goes with the last of the Selector and its clones; a Select
// blocked in another goroutine is interrupted and returns ErrClosed. Close
// is idempotent.
func (s *Selector) Close() error {
	if s == nil || !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	st := s.st
	if st.handles.Add(-1) != 0 {
		return nil
	}
	st.closing.Store(true)
	if st.ref.acquire() {
		st.interrupt()
		st.ref.release()
	}
	return st.ref.close()
}

// TryClone returns another Selector over the same registrations (mio's
// poll selector shares its state the same way). Each must be closed.
func (s *Selector) TryClone() (*Selector, error) {
	if s == nil || s.closed.Load() || !s.st.ref.acquire() {
		return nil, ErrClosed
	}
	defer s.st.ref.release()
	s.st.handles.Add(1)
	return &Selector{st: s.st}, nil
}

// isClosed reports whether this Selector (or the last of its clones) has
// been closed, so that every method answers ErrClosed after Close whatever
// its arguments.
func (s *Selector) isClosed() bool { return s == nil || s.closed.Load() || s.st.closing.Load() }

// enter takes a reference on the shared state for one call.
func (s *Selector) enter() (*pollState, bool) {
	if s == nil || s.closed.Load() || s.st.closing.Load() || !s.st.ref.acquire() {
		return nil, false
	}
	return s.st, true
}

// interrupt makes a blocked ppoll return: the internal eventfd becomes
// readable until Select drains it. The caller holds a reference.
func (st *pollState) interrupt() {
	one := [8]byte{1}
	rawsys.Write(st.ref.fd, one[:]) // EAGAIN only when the counter is full: readable anyway
}

// lock takes mu for a change. If a Select holds it (blocked in ppoll), the
// Select is interrupted; it lets pending changes in before polling again.
func (st *pollState) lock() {
	st.pending.Add(1)
	if !st.mu.TryLock() {
		st.interrupt()
		st.mu.Lock()
	}
}

func (st *pollState) unlock() {
	st.mu.Unlock()
	if st.pending.Add(-1) == 0 {
		st.idle.Broadcast()
	}
}

func pollEvents(in Interest) int16 {
	var ev int16
	if in&Readable != 0 {
		ev |= pollIn | pollRdhup
	}
	if in&Writable != 0 {
		ev |= pollOut
	}
	if in&Priority != 0 {
		ev |= pollPri
	}
	return ev
}

func checkInterest(in Interest) error {
	if err := checkDefined(in); err != nil {
		return err
	}
	if in&(AIO|LIO) != 0 {
		return ErrUnsupportedInterest
	}
	return nil
}

// Register starts watching fd for the interests in, reporting its events
// with token t. As on epoll: an fd already registered fails with EEXIST,
// a negative or closed fd with EBADF.
func (s *Selector) Register(fd int, t Token, in Interest) error {
	return s.register(fd, t, in, false)
}

func (s *Selector) register(fd int, t Token, in Interest, waker bool) error {
	if s.isClosed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("register", fd, syscall.EBADF)
	}
	if err := checkInterest(in); err != nil {
		return err
	}
	st, ok := s.enter()
	if !ok {
		return ErrClosed
	}
	defer st.ref.release()
	// poll(2) would accept a closed fd and report POLLNVAL forever; check
	// it now, as epoll_ctl does (F_GETFD cannot block).
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return &OpError{Op: "register", Fd: fd, Err: err}
	}
	st.lock()
	defer st.unlock()
	if _, dup := st.index[int32(fd)]; dup {
		return opError("register", fd, syscall.EEXIST)
	}
	st.index[int32(fd)] = len(st.fds)
	st.fds = append(st.fds, rawsys.PollFd{Fd: int32(fd), Events: pollEvents(in)})
	st.regs = append(st.regs, pollReg{fd: int32(fd), token: t, interest: in, waker: waker})
	return nil
}

// registerWaker registers a Waker's eventfd: reported as readable, drained
// by Select, never disarmed.
func (s *Selector) registerWaker(fd int, t Token) error { return s.register(fd, t, Readable, true) }

// deregisterWaker removes a Waker's eventfd, if the Selector is still open.
func (s *Selector) deregisterWaker(fd int) { s.Deregister(fd) }

// Reregister replaces the token and interests of a registered fd and
// re-arms it (including after POLLHUP, POLLERR or POLLNVAL). An fd that is
// not registered fails with ENOENT.
func (s *Selector) Reregister(fd int, t Token, in Interest) error {
	if s.isClosed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("reregister", fd, syscall.EBADF)
	}
	if err := checkInterest(in); err != nil {
		return err
	}
	st, ok := s.enter()
	if !ok {
		return ErrClosed
	}
	defer st.ref.release()
	st.lock()
	defer st.unlock()
	i, found := st.index[int32(fd)]
	if !found {
		return opError("reregister", fd, syscall.ENOENT)
	}
	st.regs[i].token, st.regs[i].interest = t, in
	st.fds[i] = rawsys.PollFd{Fd: int32(fd), Events: pollEvents(in)}
	return nil
}

// Deregister stops watching fd. An fd that is not registered fails with
// ENOENT. Unlike epoll, closing an fd does not deregister it here: its
// entry reports POLLNVAL once (as an error event) and stays until
// Deregister, so always deregister before close.
func (s *Selector) Deregister(fd int) error {
	if s.isClosed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("deregister", fd, syscall.EBADF)
	}
	st, ok := s.enter()
	if !ok {
		return ErrClosed
	}
	defer st.ref.release()
	st.lock()
	defer st.unlock()
	if !st.remove(int32(fd)) {
		return opError("deregister", fd, syscall.ENOENT)
	}
	return nil
}

// remove deletes fd's entry by moving the last entry into its place.
func (st *pollState) remove(fd int32) bool {
	i, found := st.index[fd]
	if !found {
		return false
	}
	last := len(st.fds) - 1
	if i != last {
		st.fds[i], st.regs[i] = st.fds[last], st.regs[last]
		st.index[st.regs[i].fd] = i
	}
	st.fds, st.regs = st.fds[:last], st.regs[:last]
	delete(st.index, fd)
	if st.start >= len(st.fds) {
		st.start = 0
	}
	return true
}

// WouldBlock re-arms fd in the directions in after an operation returned
// EAGAIN or came back short (see the epoll backend for the rule): the
// interests in that were suspended since fd's last event are polled again,
// and only those, so an always-writable socket does not report Writable
// after every drained read (mio re-arms every interest here). An event
// loop that stops reading without calling it hears nothing more from fd on
// this backend. An fd that is not registered is ignored.
func (s *Selector) WouldBlock(fd int, in Interest) error {
	if s.isClosed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("would block", fd, syscall.EBADF)
	}
	if err := checkDefined(in); err != nil {
		return err
	}
	st, ok := s.enter()
	if !ok {
		return ErrClosed
	}
	defer st.ref.release()
	st.lock()
	if i, found := st.index[int32(fd)]; found {
		st.fds[i].Fd = int32(fd)
		st.fds[i].Events |= pollEvents(st.regs[i].interest & in)
	}
	st.unlock()
	return nil
}

// Select waits for events and stores them in ev, as on every backend:
// timeout < 0 blocks, 0 polls once without telling the scheduler, > 0
// waits at most that long with nanosecond precision (ppoll takes a
// timespec). Registration changes from other goroutines interrupt a
// blocked Select, which then polls again for the time that remains. EINTR
// is retried the same way.
//
// When more entries are ready than ev holds, the rest are reported by the
// next Select; the scan starts after the last entry reported, so no fd is
// starved.
func (s *Selector) Select(ev *Events, timeout time.Duration) error {
	if ev == nil || len(ev.buf) == 0 {
		ev.Clear()
		return ErrNoCapacity
	}
	ev.n = 0
	st, ok := s.enter()
	if !ok {
		return ErrClosed
	}
	defer st.ref.release()
	var deadline int64
	if timeout > 0 {
		deadline = deadlineAfter(timeout)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for {
		for st.pending.Load() > 0 {
			st.idle.Wait() // let waiting changes in before polling
		}
		if st.closing.Load() {
			return ErrClosed
		}
		var n int
		var errno syscall.Errno
		switch {
		case timeout == 0:
			var zero rawsys.Timespec
			n, errno = rawsys.PpollRaw(&st.fds[0], len(st.fds), &zero)
		case timeout < 0:
			n, errno = rawsys.Ppoll(&st.fds[0], len(st.fds), nil)
		default:
			ts := rawsys.Timespec{Sec: int64(timeout / time.Second), Nsec: int64(timeout % time.Second)}
			n, errno = rawsys.Ppoll(&st.fds[0], len(st.fds), &ts)
		}
		if errno != 0 && errno != syscall.EINTR {
			return opError("select", -1, errno)
		}
		if n > 0 && st.collect(ev, n) {
			return nil
		}
		// Nothing for the caller: a change or a close (the internal
		// eventfd), EINTR, or the timeout.
		switch {
		case timeout == 0:
			return nil
		case timeout > 0:
			if errno == 0 && n == 0 {
				return nil // the timeout expired
			}
			if timeout = time.Duration(deadline - nanotime()); timeout <= 0 {
				timeout = 0 // the time is up: one last look without blocking
			}
		}
	}
}

// collect turns ready entries into events, starting at st.start and
// wrapping once, applies the edge-triggered emulation, and reports whether
// anything was stored for the caller. ready is ppoll's count of entries
// with non-zero revents; when ev fills first, the scan resumes at the
// first unreported entry next time.
func (st *pollState) collect(ev *Events, ready int) bool {
	fds, regs := st.fds, st.regs
	out, i, left := 0, st.start, len(fds) // left: entries not yet examined
	for ready > 0 && left > 0 {
		end := min(len(fds), i+left) // the second lap stops where the first began
		j := i + scanRevents(fds[i:end])
		left -= j - i
		if j == end {
			i = 0
			continue
		}
		if out == len(ev.buf) {
			i = j
			break
		}
		left--
		ready--
		i = j + 1
		if i == len(fds) {
			i = 0
		}
		r := uint16(fds[j].Revents)
		fds[j].Revents = 0
		if j == 0 { // the internal eventfd: a change or a close
			drainEventfd(st.ref.fd)
			continue
		}
		reg := &regs[j]
		if reg.waker {
			drainEventfd(int(reg.fd))
			ev.buf[out] = pollEvent{token: uint64(reg.token), revents: pollIn}
			out++
			continue
		}
		ev.buf[out] = pollEvent{token: uint64(reg.token), revents: r}
		out++
		// Edge emulation: what fired is not polled again until WouldBlock
		// or Reregister. The terminal conditions cannot be masked in
		// events, so they suspend the whole entry (poll(2) skips fd -1).
		fds[j].Events &^= int16(r & (pollIn | pollOut | pollPri | pollRdhup))
		if r&pollTerminal != 0 {
			fds[j].Fd = -1
		}
	}
	st.start = i
	ev.n = out
	return out > 0
}

func drainEventfd(fd int) {
	var buf [8]byte
	rawsys.Read(fd, buf[:])
}

// SetBusyPoll returns ErrBusyPollUnsupported: busy polling is an epoll
// feature (EPIOCSPARAMS).
func (s *Selector) SetBusyPoll(usecs uint32, budget uint16, prefer bool) error {
	return ErrBusyPollUnsupported
}

// Token returns the token the event's fd was registered with.
func (e *Event) Token() Token { return Token(e.token) }

// IsReadable reports POLLIN or POLLPRI.
func (e *Event) IsReadable() bool { return e.revents&(pollIn|pollPri) != 0 }

// IsWritable reports POLLOUT.
func (e *Event) IsWritable() bool { return e.revents&pollOut != 0 }

// IsError reports POLLERR, or POLLNVAL: the fd was closed while registered.
func (e *Event) IsError() bool { return e.revents&(pollErr|pollNval) != 0 }

// IsReadClosed reports POLLHUP, or POLLIN with POLLRDHUP.
func (e *Event) IsReadClosed() bool {
	return e.revents&pollHup != 0 || e.revents&(pollIn|pollRdhup) == pollIn|pollRdhup
}

// IsWriteClosed reports POLLHUP, POLLOUT with POLLERR, or POLLERR alone.
func (e *Event) IsWriteClosed() bool {
	return e.revents&pollHup != 0 || e.revents&(pollOut|pollErr) == pollOut|pollErr || e.revents == pollErr
}

// IsPriority reports POLLPRI.
func (e *Event) IsPriority() bool { return e.revents&pollPri != 0 }

// IsAIO is always false on poll.
func (e *Event) IsAIO() bool { return false }

// IsLIO is always false on poll.
func (e *Event) IsLIO() bool { return false }

var pollFlagNames = []flagName{
	{pollIn, "POLLIN"}, {pollPri, "POLLPRI"}, {pollOut, "POLLOUT"}, {pollErr, "POLLERR"},
	{pollHup, "POLLHUP"}, {pollNval, "POLLNVAL"}, {pollRdhup, "POLLRDHUP"},
}

func (e *Event) details() string {
	return "PollEvent{revents: " + flagNames(uint64(e.revents), pollFlagNames) + "}"
}
