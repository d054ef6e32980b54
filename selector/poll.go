//go:build linux && (amd64 || arm64) && rawpoll_forcepoll

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

	// pollDirs are the readiness bits an interest asks for; they are
	// disarmed when reported and re-armed by WouldBlock.
	pollDirs = pollIn | pollOut | pollPri | pollRdhup
	// pollTerminal are reported whatever pollfd.events says, so they
	// cannot be disarmed: an entry that reports one is suspended.
	pollTerminal = pollErr | pollHup | pollNval
)

// sliceWithoutWake bounds each ppoll of a Select that has no eventfd of
// its own (it could not get one: EMFILE), so that it still sees
// registration changes and Close, late by at most this much.
const sliceWithoutWake = 10 * time.Millisecond

// Selector is a set of registrations polled with poll(2). Clones made by
// TryClone share the set. The zero Selector is closed.
type Selector struct {
	st     *pollState
	shut   atomic.Bool // Close was called on this handle
	wakers wakerSet    // the Wakers made with this handle (waker_eventfd.go)
}

type pollReg struct {
	fd       int32
	token    Token
	interest Interest
	id       uint64 // unique per registration: tells a stale snapshot entry apart
	waker    bool   // a Waker's eventfd: drained when reported, never disarmed
}

// pollState is what a Selector and its clones share. No lock is held
// across ppoll: each Select polls a snapshot of the set in a waiter of its
// own and applies what it saw under mu afterwards, so Selects on one set
// run concurrently, and a change never waits for a blocked Select. A
// change interrupts the waiting Selects through their waiters' eventfds,
// and they poll again with the new set for the time that remains.
type pollState struct {
	ref fdRef // calls in flight; the waiters' eventfds are closed with the last

	mu      sync.Mutex
	handles int             // Selectors sharing this state that are not closed
	closing atomic.Bool     // the last handle is closing: every call returns ErrClosed
	fds     []rawsys.PollFd // the registrations as poll(2) takes them
	regs    []pollReg       // parallel to fds
	index   map[int32]int   // fd -> position in fds
	start   int             // where the next scan of revents begins (rotation)
	nextID  uint64
	idle    []*pollWaiter // waiters not in use
	active  []*pollWaiter // waiters of Selects in progress
	all     []*pollWaiter // every waiter, closed with the state
}

// pollWaiter is one Select's view of the set: a snapshot of fds behind its
// own eventfd (fds[0]), which a change or a Close writes to make its ppoll
// return.
type pollWaiter struct {
	efd int             // -1 when none could be made
	fds []rawsys.PollFd // fds[0] is efd; fds[1:] the snapshot
	ids []uint64        // ids[i] is the registration behind fds[i+1]
	sel *Selector       // the handle the Select runs on
}

// New creates a poll-based Selector, with the eventfd
// (EFD_CLOEXEC|EFD_NONBLOCK) its first Select waits on. This build has no
// other backend: a known name in WithBackend is ignored, an unknown one is
// ErrUnknownBackend (RAWPOLL_BACKEND is not read).
func New(opts ...Option) (*Selector, error) {
	if _, err := applyOptions(opts, nil); err != nil {
		return nil, err
	}
	st := &pollState{index: map[int32]int{}, handles: 1}
	w, errno := newPollWaiter()
	if errno != 0 {
		return nil, opError("new", -1, errno)
	}
	st.idle = append(st.idle, w)
	st.all = append(st.all, w)
	st.ref.init(-1)
	st.ref.hook = st.closeWaiters
	return &Selector{st: st}, nil
}

func newPollWaiter() (*pollWaiter, syscall.Errno) {
	efd, errno := rawsys.Eventfd2(0, rawsys.EFD_CLOEXEC|rawsys.EFD_NONBLOCK)
	if errno != 0 {
		return nil, errno
	}
	return &pollWaiter{efd: efd, fds: []rawsys.PollFd{{Fd: int32(efd), Events: pollIn}}}, 0
}

// closeWaiters closes the waiters' eventfds: the fdRef hook, run when the
// last handle is closed and no call is in flight.
func (st *pollState) closeWaiters() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, w := range st.all {
		if w.efd >= 0 {
			closeFd(w.efd)
			w.efd = -1
		}
	}
	st.all, st.idle = nil, nil
}

// Backend names the kernel mechanism: "poll".
func (s *Selector) Backend() string { return "poll" }

// Fd returns -1: a poll selector has no descriptor that stands for its
// registrations.
func (s *Selector) Fd() int { return -1 }

// Close releases this Selector; a Select blocked on it in another
// goroutine is interrupted and returns ErrClosed, while Selects on its
// clones go on. The shared state (and its eventfds) goes with the last of
// the Selector and its clones. Close is idempotent.
func (s *Selector) Close() error {
	if s == nil || s.st == nil || s.shut.Load() {
		return nil
	}
	s.closeWakers() // while the state is certainly there
	if !s.shut.CompareAndSwap(false, true) {
		return nil
	}
	st := s.st
	st.mu.Lock()
	st.handles--
	last := st.handles == 0
	if last {
		st.closing.Store(true)
	}
	for _, w := range st.active {
		if last || w.sel == s {
			w.interrupt()
		}
	}
	st.mu.Unlock()
	if last {
		return st.ref.close()
	}
	return nil
}

// TryClone returns another Selector over the same registrations (mio's
// poll selector shares its state the same way). Each must be closed.
func (s *Selector) TryClone() (*Selector, error) {
	st, ok := s.enter()
	if !ok {
		return nil, ErrClosed
	}
	defer st.ref.release()
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.shut.Load() || st.closing.Load() {
		return nil, ErrClosed
	}
	st.handles++
	return &Selector{st: st}, nil
}

// isClosed reports whether this Selector (or the last of its clones) has
// been closed, so that every method answers ErrClosed after Close whatever
// its arguments.
func (s *Selector) closed() bool {
	return s == nil || s.st == nil || s.shut.Load() || s.st.closing.Load()
}

// enter takes a reference on the shared state for one call.
func (s *Selector) enter() (*pollState, bool) {
	if s.closed() || !s.st.ref.acquire() {
		return nil, false
	}
	return s.st, true
}

// interrupt makes the waiter's ppoll return: its eventfd becomes readable
// until that Select drains it. The caller holds st.mu, so the eventfd is
// open.
func (w *pollWaiter) interrupt() {
	if w.efd >= 0 {
		one := [8]byte{1}
		rawsys.Write(w.efd, one[:]) // EAGAIN only when the counter is full: readable anyway
	}
}

// changed tells the waiting Selects that the set changed. Caller holds
// st.mu.
func (st *pollState) changed() {
	for _, w := range st.active {
		w.interrupt()
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
// a closed fd or a number outside [0, math.MaxInt32] with EBADF.
func (s *Selector) Register(fd int, t Token, in Interest) error {
	return s.register(fd, t, in, false)
}

func (s *Selector) register(fd int, t Token, in Interest, waker bool) error {
	if s.closed() {
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
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.index[int32(fd)]; dup {
		return opError("register", fd, syscall.EEXIST)
	}
	st.nextID++
	st.index[int32(fd)] = len(st.fds)
	st.fds = append(st.fds, rawsys.PollFd{Fd: int32(fd), Events: pollEvents(in)})
	st.regs = append(st.regs, pollReg{fd: int32(fd), token: t, interest: in, id: st.nextID, waker: waker})
	st.changed()
	return nil
}

// registerWaker registers a Waker's eventfd: reported as readable, drained
// by Select, never disarmed.
func (s *Selector) registerWaker(fd int, t Token) error { return s.register(fd, t, Readable, true) }

// deregisterWaker removes a Waker's eventfd from the set it was registered
// in, even when the Selector it was made with has been closed: a clone may
// still poll the set, and the entry must be gone before the eventfd's
// number can be reused.
func (s *Selector) deregisterWaker(fd int) {
	if s == nil || s.st == nil || !s.st.ref.acquire() {
		return // the state is gone: nothing polls the entry any more
	}
	st := s.st
	st.mu.Lock()
	if st.remove(int32(fd)) {
		st.changed()
	}
	st.mu.Unlock()
	st.ref.release()
}

// Reregister replaces the token and interests of a registered fd and
// re-arms it (including after POLLHUP, POLLERR or POLLNVAL). An fd that is
// not registered fails with ENOENT.
func (s *Selector) Reregister(fd int, t Token, in Interest) error {
	if s.closed() {
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
	st.mu.Lock()
	defer st.mu.Unlock()
	i, found := st.index[int32(fd)]
	if !found || st.regs[i].waker {
		return opError("reregister", fd, syscall.ENOENT)
	}
	st.nextID++
	st.regs[i].token, st.regs[i].interest, st.regs[i].id = t, in, st.nextID
	st.fds[i] = rawsys.PollFd{Fd: int32(fd), Events: pollEvents(in)}
	st.changed()
	return nil
}

// Deregister stops watching fd. An fd that is not registered fails with
// ENOENT. Unlike epoll, closing an fd does not deregister it here: its
// entry reports POLLNVAL once (as an error event) and stays until
// Deregister, so always deregister before close.
func (s *Selector) Deregister(fd int) error {
	if s.closed() {
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
	st.mu.Lock()
	defer st.mu.Unlock()
	if i, found := st.index[int32(fd)]; !found || st.regs[i].waker || !st.remove(int32(fd)) {
		return opError("deregister", fd, syscall.ENOENT)
	}
	st.changed()
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
// after every drained read (mio re-arms every interest here). An entry
// suspended by POLLHUP, POLLERR or POLLNVAL is polled again too. An event
// loop that stops reading without calling it hears nothing more from fd on
// this backend. An fd that is not registered is ignored.
func (s *Selector) WouldBlock(fd int, in Interest) error {
	if s.closed() {
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
	st.mu.Lock()
	if i, found := st.index[int32(fd)]; found && !st.regs[i].waker {
		e := &st.fds[i]
		old := *e
		e.Fd = int32(fd)
		// Readable re-arms Priority too: urgent data is data to read
		// (IsReadable reports it), so a loop that reads to EAGAIN and
		// re-arms Readable has drained it as well.
		if in&Readable != 0 {
			in |= Priority
		}
		e.Events |= pollEvents(st.regs[i].interest & in)
		if *e != old {
			st.changed()
		}
	}
	st.mu.Unlock()
	return nil
}

// Select waits for events and stores them in ev, as on every backend:
// timeout < 0 blocks, 0 polls once without telling the scheduler, > 0
// waits at most that long with nanosecond precision (ppoll takes a
// timespec). Several Selects may run at once on a Selector and its clones;
// each readiness is reported to one of them. Registration changes from
// other goroutines interrupt a blocked Select, which then polls again for
// the time that remains. EINTR is retried the same way.
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
	w := st.waiter(s)
	defer st.done(w) // unlocks
	for {
		if s.closed() {
			return ErrClosed
		}
		st.snapshot(w)
		wait := timeout
		if w.efd < 0 && (wait < 0 || wait > sliceWithoutWake) {
			wait = sliceWithoutWake
		}
		st.mu.Unlock()
		var n int
		var errno syscall.Errno
		switch {
		case wait == 0:
			var zero rawsys.Timespec
			n, errno = rawsys.PpollRaw(&w.fds[0], len(w.fds), &zero)
		case wait < 0:
			n, errno = rawsys.Ppoll(&w.fds[0], len(w.fds), nil)
		default:
			ts := rawsys.Timespec{Sec: int64(wait / time.Second), Nsec: int64(wait % time.Second)}
			n, errno = rawsys.Ppoll(&w.fds[0], len(w.fds), &ts)
		}
		st.mu.Lock()
		if s.closed() {
			return ErrClosed
		}
		if errno != 0 && errno != syscall.EINTR {
			return opError("select", -1, errno)
		}
		if n > 0 && st.collect(w, ev, n) {
			return nil
		}
		// Nothing for the caller: a change or a Close (the waiter's
		// eventfd), readiness another Select took first, EINTR, or the
		// timeout.
		switch {
		case timeout == 0:
			return nil
		case timeout > 0:
			if errno == 0 && n == 0 && wait == timeout {
				return nil // the timeout expired
			}
			// Poll again for what remains; when nothing does, one last
			// look without blocking.
			timeout = max(time.Duration(deadline-nanotime()), 0)
		}
	}
}

// waiter takes an idle waiter (or makes one) for a Select on s and marks
// it active, so that changes interrupt it. Caller holds st.mu.
func (st *pollState) waiter(s *Selector) *pollWaiter {
	var w *pollWaiter
	if n := len(st.idle); n > 0 {
		w = st.idle[n-1]
		st.idle = st.idle[:n-1]
	} else {
		var errno syscall.Errno
		if w, errno = newPollWaiter(); errno != 0 {
			// No descriptor to spare: poll in slices instead.
			w = &pollWaiter{efd: -1, fds: []rawsys.PollFd{{Fd: -1}}}
		} else {
			st.all = append(st.all, w)
		}
	}
	w.sel = s
	st.active = append(st.active, w)
	return w
}

// done returns w to the idle list and unlocks st.mu.
func (st *pollState) done(w *pollWaiter) {
	for i, a := range st.active {
		if a == w {
			last := len(st.active) - 1
			st.active[i] = st.active[last]
			st.active[last] = nil
			st.active = st.active[:last]
			break
		}
	}
	w.sel = nil
	if w.efd >= 0 {
		st.idle = append(st.idle, w)
	}
	st.mu.Unlock()
}

// snapshot copies the set into w behind its eventfd. Caller holds st.mu.
func (st *pollState) snapshot(w *pollWaiter) {
	n := len(st.fds)
	if cap(w.fds) < n+1 {
		w.fds = append(w.fds[:1], make([]rawsys.PollFd, n)...)
		w.ids = make([]uint64, n, cap(w.fds)-1)
	}
	w.fds, w.ids = w.fds[:n+1], w.ids[:n]
	w.fds[0].Revents = 0
	copy(w.fds[1:], st.fds)
	for i := range st.regs {
		w.ids[i] = st.regs[i].id
	}
}

// collect turns the ready entries of w's snapshot into events, starting at
// st.start and wrapping once, applies the edge-triggered emulation to the
// current set, and reports whether anything was stored for the caller.
// ready is ppoll's count of entries with non-zero revents. A snapshot entry
// whose registration has since been removed or replaced is dropped, and so
// is readiness another Select has reported meanwhile (its bits are no
// longer armed). When ev fills first, the scan resumes at the first
// unreported entry next time. Caller holds st.mu.
func (st *pollState) collect(w *pollWaiter, ev *Events, ready int) bool {
	if w.fds[0].Revents != 0 { // this waiter's eventfd: a change or a Close
		w.fds[0].Revents = 0
		drainEventfd(w.efd)
		ready--
	}
	fds := w.fds[1:]
	out, i, left := 0, min(st.start, len(fds)), len(fds) // left: entries not yet examined
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
		k, ok := st.lookup(j, fds[j].Fd, w.ids[j])
		if !ok {
			continue // deregistered or replaced since the snapshot
		}
		reg, cur := &st.regs[k], &st.fds[k]
		if reg.waker {
			// Reported only if this Select is the one that consumed the
			// wake; a closed eventfd (POLLNVAL) suspends the entry.
			if r&pollNval != 0 {
				cur.Fd = -1
				continue
			}
			if drainEventfd(int(reg.fd)) {
				ev.buf[out] = pollEvent{token: uint64(reg.token), revents: pollIn}
				out++
			}
			continue
		}
		if cur.Fd < 0 {
			continue // suspended: another Select reported its hang-up or error
		}
		fired := r & uint16(cur.Events) & pollDirs
		term := r & pollTerminal
		if fired|term == 0 {
			continue // another Select reported this readiness first
		}
		rep := fired | term
		if rep&pollRdhup != 0 && reg.interest&Readable != 0 {
			// The peer's FIN makes the socket readable (EOF), and epoll
			// reports EPOLLIN with EPOLLRDHUP; here POLLIN may have been
			// disarmed by an earlier event whose data the program has not
			// finished reading, which left POLLRDHUP alone: an event no
			// accessor reports.
			rep |= pollIn
		}
		ev.buf[out] = pollEvent{token: uint64(reg.token), revents: rep}
		out++
		// Edge emulation: what fired is not polled again until WouldBlock
		// or Reregister. The terminal conditions cannot be masked in
		// events, so they suspend the whole entry (poll(2) skips fd -1).
		cur.Events &^= int16(fired)
		if term != 0 {
			cur.Fd = -1
		}
	}
	st.start = i
	ev.n = out
	return out > 0
}

// lookup finds the current position of the registration that was at
// position j of a snapshot, with id id: at j itself unless the set has
// changed since. Caller holds st.mu.
func (st *pollState) lookup(j int, fd int32, id uint64) (int, bool) {
	if j < len(st.regs) && st.regs[j].id == id {
		return j, true
	}
	if fd < 0 {
		return 0, false // a suspended entry reports nothing
	}
	k, ok := st.index[fd]
	if !ok || st.regs[k].id != id {
		return 0, false
	}
	return k, true
}

// drainEventfd reads an eventfd's counter, reporting whether there was
// one to read (EAGAIN when another Select drained it first).
func drainEventfd(fd int) bool {
	var buf [8]byte
	n, _ := rawsys.Read(fd, buf[:])
	return n == 8
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
