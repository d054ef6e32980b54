//go:build linux && !rawpoll_forcepoll && (amd64 || arm64)

package selector

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// sysEvent is the kernel record the Events buffer holds: epoll_event, in
// the layout of the running architecture.
type sysEvent = rawsys.EpollEvent

// maxEvents is the largest Events capacity: epoll_wait(2) fails with EINVAL
// beyond EP_MAX_EVENTS.
const maxEvents = rawsys.MaxEpollEvents

// Selector is an epoll instance, or an io_uring instance when New chose
// that backend (WithBackend, RAWPOLL_BACKEND), always created with
// close-on-exec. (The poll build's and kqueue's Selector have the same
// methods; go doc shows this build's.) The zero Selector is closed: every
// method returns ErrClosed (Close, nil) without a system call.
type Selector struct {
	ref    fdRef        // the epoll instance; on io_uring, this handle's dup of the ring descriptor
	ur     *uringHandle // non-nil: the io_uring backend (uring_linux.go)
	wakers wakerSet     // the Wakers made with this handle (waker_eventfd.go)
}

// New creates a Selector: epoll (epoll_create1(EPOLL_CLOEXEC)) unless
// io_uring is asked for, with WithBackend("io_uring") or, when no option
// names a backend, RAWPOLL_BACKEND=io_uring in the environment. io_uring is
// used where it can serve (Linux 5.13+ with multishot poll, not refused by
// seccomp or kernel.io_uring_disabled; see IoUringUnavailable); elsewhere
// New falls back to epoll, and Backend says which it got. "kqueue" and
// "poll" mean epoll here (the poll backend is the rawpoll_forcepoll build);
// an unknown name is ErrUnknownBackend.
func New(opts ...Option) (*Selector, error) {
	c, err := applyOptions(opts, backendFromEnv)
	if err != nil {
		return nil, err
	}
	if c.backend == "io_uring" {
		s, err := newUring()
		if err == nil {
			return s, nil
		}
		if uringUsable() == nil {
			return nil, err // usable, but this ring could not be made (EMFILE, ENOMEM)
		}
	}
	fd, errno := rawsys.EpollCreate1(rawsys.EPOLL_CLOEXEC)
	if errno != 0 {
		return nil, opError("new", -1, errno)
	}
	return newSelector(fd), nil
}

func newSelector(fd int) *Selector {
	s := &Selector{}
	s.ref.init(fd)
	return s
}

// Backend names the kernel mechanism this Selector uses: "epoll" or
// "io_uring" here; "poll" in the rawpoll_forcepoll build and "kqueue" on
// darwin and the BSDs. A backend asked for that this build lacks falls
// back to the default: compare Backend with what you asked for.
func (s *Selector) Backend() string {
	if s != nil && s.ur != nil {
		return "io_uring"
	}
	return "epoll"
}

// Fd returns the epoll (or io_uring) descriptor, or -1 after Close. It
// stays owned by the Selector: do not close it.
func (s *Selector) Fd() int {
	if s == nil {
		return -1
	}
	return s.ref.fdOrMinus1()
}

// Close closes the epoll (or io_uring) instance; clones keep it open until
// theirs. It is idempotent: a second Close returns
// nil. If other goroutines are inside calls on this Selector, the
// descriptor is closed when the last of them returns, and a Select blocked
// in the kernel is woken (closing the descriptor alone would not wake it:
// epoll_wait holds its own reference to the instance) and returns
// ErrClosed.
func (s *Selector) Close() error {
	if s == nil {
		return nil
	}
	s.closeWakers()
	if s.ur != nil {
		return s.ref.closeWaking(s.ur.wakeBlocked)
	}
	return s.ref.closeWaking(s.wakeBlocked)
}

// wakeBlocked makes every thread sleeping in epoll_wait on this instance
// return, so that the Selects blocked on this Selector see it closed: it
// adds the read end of a pipe holding a byte, level-triggered, so each
// waiter wakes in turn. The instance may be shared with clones, which must
// not see the wake-up: it is registered for EPOLLRDNORM alone, a flag no
// registration of this package asks for (epollInterest), so its event is
// the only one that can carry EPOLLRDNORM, and Select drops such events
// once any Close has made a wake-up (closeWoke). The pipe is closed with
// the epoll descriptor, which removes it from the instance (its only
// reference). Best effort: without descriptors to spare (EMFILE) a blocked
// Select returns at its timeout or next event instead.
func (s *Selector) wakeBlocked() {
	var p [2]int
	if unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK) != nil {
		return
	}
	unix.Write(p[1], []byte{1})
	unix.Close(p[1])
	var ev rawsys.EpollEvent
	ev.Set(closeWakeFlag, 0)
	closeWoke.Store(true) // before any Select can see the wake-up
	if rawsys.EpollCtl(s.ref.fd, rawsys.EPOLL_CTL_ADD, p[0], &ev) != 0 {
		closeFd(p[0])
		return
	}
	s.ref.also = p[0]
}

// closeWakeFlag marks the event of a Close wake-up (see wakeBlocked).
const closeWakeFlag = rawsys.EPOLLRDNORM

// closeWoke is set, for good, by the first Close that adds a wake-up in
// this process; until then Select does not look for them. It is never
// cleared: a Select that read a wake-up from the kernel must see the flag
// when it looks afterwards, however soon that wake-up is removed, and a
// flag set before the wake-up is added and never cleared guarantees it. A
// process that closes Selectors while Selects are blocked on them pays one
// pass over each Select's events from then on.
var closeWoke atomic.Bool

// dropCloseWakes removes Close wake-ups from buf[:n] and returns how many
// events remain. Out of line: inlined into Select, it would make the hot
// path keep buf in its frame.
//
//go:noinline
func dropCloseWakes(buf []sysEvent, n int) int {
	j := 0
	for i := range buf[:n] {
		if buf[i].Events()&closeWakeFlag == 0 {
			buf[j] = buf[i]
			j++
		}
	}
	return j
}

// TryClone returns a second Selector on the same epoll instance, through a
// new descriptor with FD_CLOEXEC (fcntl F_DUPFD_CLOEXEC). Registrations made
// through either are seen by both; each must be closed.
func (s *Selector) TryClone() (*Selector, error) {
	if s != nil && s.ur != nil {
		return s.uringClone()
	}
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

// epollInterest maps an Interest to epoll flags, EPOLLET always included.
func epollInterest(in Interest) (uint32, error) {
	if f := epollMasks[in]; f != 0 {
		return f, nil
	}
	return epollMask(in)
}

// epollMasks is epollMask's answer for every Interest, 0 where it refuses
// one (a valid mask has EPOLLET): one load instead of its tests saves 30
// instructions a Register or Reregister (make bench-instr, EpollCtlMod).
var epollMasks = func() (t [256]uint32) {
	for i := range t {
		t[i], _ = epollMask(Interest(i))
	}
	return t
}()

// epollMask translates interests to epoll's event mask, or says why not.
// Out of line, so that epollInterest inlines.
//
//go:noinline
func epollMask(in Interest) (uint32, error) {
	if err := checkDefined(in); err != nil {
		return 0, err
	}
	if in&(AIO|LIO) != 0 {
		return 0, ErrUnsupportedInterest
	}
	ev := uint32(rawsys.EPOLLET)
	if in&Readable != 0 {
		ev |= rawsys.EPOLLIN | rawsys.EPOLLRDHUP
	}
	if in&Writable != 0 {
		ev |= rawsys.EPOLLOUT
	}
	if in&Priority != 0 {
		ev |= rawsys.EPOLLPRI
	}
	return ev, nil
}

// Register starts watching fd for the interests in, reporting its events
// with token t. Registering an fd that is already registered fails with
// EEXIST (use Reregister); a closed fd fails with EBADF, a number outside
// [0, math.MaxInt32] with EBADF without a system call, and a regular file
// with EPERM.
func (s *Selector) Register(fd int, t Token, in Interest) error {
	return s.ctl(rawsys.EPOLL_CTL_ADD, "register", fd, t, in)
}

// Reregister replaces the token and interests of a registered fd. An fd
// that is not registered fails with ENOENT.
func (s *Selector) Reregister(fd int, t Token, in Interest) error {
	return s.ctl(rawsys.EPOLL_CTL_MOD, "reregister", fd, t, in)
}

// Deregister stops watching fd. An fd that is not registered fails with
// ENOENT, except one that epoll cannot watch at all (a regular file, or
// /dev/null), which fails with EPERM as its Register did. Closing an fd
// deregisters it too, unless another descriptor still refers to the same
// open file (dup, fork): deregister before close. On io_uring it also
// ends fd's Recv (chunks not yet reported are dropped) and cancels a Send
// in flight, whose Completion still comes (Res -ECANCELED, or what was
// sent) and hands its buffer back: until then the kernel owns it.
func (s *Selector) Deregister(fd int) error {
	// As ctl: the reference first, the rest in the one branch.
	if s == nil {
		return ErrClosed
	}
	if !s.ref.take() {
		s.ref.acquireFailed()
		return ErrClosed
	}
	if badFd(fd) || s.ur != nil {
		s.ref.release()
		return s.deregisterSlow(fd)
	}
	errno := rawsys.EpollCtl(s.ref.fd, rawsys.EPOLL_CTL_DEL, fd, nil)
	s.ref.release()
	if errno != 0 {
		return opError("deregister", fd, errno)
	}
	return nil
}

// deregisterSlow is Deregister for a bad fd or an io_uring Selector.
func (s *Selector) deregisterSlow(fd int) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("deregister", fd, syscall.EBADF)
	}
	return s.uringDeregister(fd)
}

// ctl is Register and Reregister. The hot path takes the reference first,
// which also answers a closed Selector, and tests everything else in one
// branch (a bad fd, interests epoll refuses, io_uring) to ctlSlow, which
// answers in the documented order: ErrClosed before any argument's error.
func (s *Selector) ctl(op int, name string, fd int, t Token, in Interest) error {
	if s == nil {
		return ErrClosed
	}
	if !s.ref.take() {
		s.ref.acquireFailed()
		return ErrClosed
	}
	flags := epollMasks[in] // epollInterest, inline: a uint8 index needs no bounds check
	if badFd(fd) || flags == 0 || s.ur != nil {
		s.ref.release()
		return s.ctlSlow(op, name, fd, t, in)
	}
	var ev rawsys.EpollEvent
	ev.Set(flags, uint64(t))
	errno := rawsys.EpollCtl(s.ref.fd, op, fd, &ev)
	s.ref.release()
	if errno != 0 {
		return opError(name, fd, errno)
	}
	return nil
}

func (s *Selector) ctlSlow(op int, name string, fd int, t Token, in Interest) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError(name, fd, syscall.EBADF)
	}
	if _, err := epollInterest(in); err != nil {
		return err
	}
	if op == rawsys.EPOLL_CTL_ADD {
		return s.uringRegister(fd, t, in)
	}
	return s.uringReregister(fd, t, in)
}

// closed reports whether Close has been called, so that every method
// answers ErrClosed after it whatever its arguments.
func (s *Selector) closed() bool { return s == nil || s.ref.isClosed() }

// registerWaker registers a Waker's eventfd like any readable fd.
func (s *Selector) registerWaker(fd int, t Token) error { return s.Register(fd, t, Readable) }

// deregisterWaker removes a Waker's eventfd, if the Selector is still open
// (on io_uring, while any clone keeps the ring).
func (s *Selector) deregisterWaker(fd int) {
	if s.ur != nil {
		s.uringDeregisterWaker(fd)
		return
	}
	if s.ref.acquire() {
		rawsys.EpollCtl(s.ref.fd, rawsys.EPOLL_CTL_DEL, fd, nil)
		s.ref.release()
	}
}

// Send queues a send of p on fd through an io_uring Selector's submission
// ring (IORING_OP_SEND with MSG_NOSIGNAL|MSG_WAITALL): it goes to the
// kernel with the next Select's io_uring_enter (at once while a Select
// waits), so an event loop that sends what it has just read pays no system
// call of its own for it. The kernel owns p from here until Select reports
// the Completion (OpSend, token t, p back in Buf): do not modify or reuse p
// before. The kernel sends all of p, waiting for room as long as the peer
// takes, so the completion's Res is len(p); -errno (EPIPE, ECONNRESET) when
// the connection failed before anything was sent; and between the two when
// it failed part way (io_uring reports the bytes sent, not the error, which
// the next call on fd meets). The kernel does not order two sends on one
// socket, so one Send may be in flight per fd (a second is EBUSY): keep
// what comes meanwhile and send it on the completion. Deregister fd before
// closing it: that submits what is queued for it (an SQE names fd by
// number). On other backends Send returns ErrRingOnly.
func (s *Selector) Send(fd int, t Token, p []byte) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("send", fd, syscall.EBADF)
	}
	if s.ur == nil {
		return ErrRingOnly
	}
	return s.uringSend(fd, t, p)
}

// Recv starts receiving from socket fd through an io_uring Selector's
// rings: a multishot IORING_OP_RECV into buffers of the Selector's own
// provided-buffer ring (Linux 6.0+). Every chunk that arrives is reported
// by Select as a Completion (OpRecv, token t) whose Buf is a view of a
// ring buffer, lent until the next Select or Clear on those Events; the
// receive goes on (More) until end of file (Res 0), an error, or StopRecv,
// and Deregister(fd) ends it (dropping what it had not reported). fd need
// not be registered for readiness. One Recv per fd (EEXIST for a second,
// until the first's last completion). The receive does not wait for the
// loop: stop it with StopRecv when the peer sends faster than the loop
// can answer. Limits: the buffers, 1024 of 4 KiB, are shared by every
// Recv on the ring and come back as the Events that were lent them are
// reused, so a loop that holds many Events unused starves the receives;
// when they run out the kernel's ENOBUFS is absorbed (the receive waits,
// without a request in the kernel, until buffers are given back, and then
// goes on with the data that waited: it never reaches the caller), and
// a Select stores at most Cap() Completions (and Cap() events) in an
// Events, the rest waiting in the ring for the next. On other backends
// Recv returns ErrRingOnly.
func (s *Selector) Recv(fd int, t Token) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("recv", fd, syscall.EBADF)
	}
	if s.ur == nil {
		return ErrRingOnly
	}
	return s.uringRecv(fd, t)
}

// StopRecv stops fd's Recv, for flow control (a peer that sends faster
// than it reads): chunks already received are still reported, and the
// receive's last Completion has More false (Res -ECANCELED, or what ended
// it first); Recv again after that to resume. Unlike Deregister, nothing
// received is lost. ENOENT when fd has no Recv, including one that has
// already ended but whose last Completion (More false) is among those of
// the last Select still to handle: a loop that stops receives from inside
// its completion loop must take ENOENT as "already stopped". On other
// backends ErrRingOnly.
func (s *Selector) StopRecv(fd int) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("stop recv", fd, syscall.EBADF)
	}
	if s.ur == nil {
		return ErrRingOnly
	}
	return s.uringStopRecv(fd)
}

// WouldBlock tells the selector that fd is drained in the directions in:
// Readable after a read returned EAGAIN or less than asked (on a stream
// socket a short read means the next one would return EAGAIN), Writable
// after a write returned EAGAIN or wrote less than asked. That is what
// re-arms an edge-triggered registration (mio's IoSourceState::do_io), per
// direction. On epoll the kernel re-arms by itself, so this only checks its
// arguments; on the poll backend it resumes the interests in that were
// suspended since fd's last event, and nothing else. Portable event loops
// call it at every such point; one that does not hears nothing more from fd
// on poll. A number outside [0, math.MaxInt32] gives EBADF, an invalid
// Interest ErrInvalidInterest, and ErrClosed comes after Close.
func (s *Selector) WouldBlock(fd int, in Interest) error {
	if s.closed() {
		return ErrClosed
	}
	if badFd(fd) {
		return opError("would block", fd, syscall.EBADF)
	}
	return checkDefined(in)
}

// SetBusyPoll sets the epoll instance's busy-poll parameters
// (EPIOCSPARAMS, Linux 6.9+): while a Select waits, the kernel polls the
// device queues of the sockets it watches for up to usecs microseconds,
// processing at most budget packets per poll, and with prefer set it
// prefers busy polling to interrupts. usecs 0 turns it off. It returns an
// error matching errors.ErrUnsupported on kernels without the ioctl, and
// EPERM for a budget above NAPI_POLL_WEIGHT (64) without CAP_NET_ADMIN.
func (s *Selector) SetBusyPoll(usecs uint32, budget uint16, prefer bool) error {
	if s == nil || !s.ref.acquire() {
		return ErrClosed
	}
	if s.ur != nil {
		s.ref.release()
		return &OpError{Op: "set busy poll", Fd: s.ref.fd, Err: ErrBusyPollUnsupported}
	}
	p := rawsys.EpollParams{BusyPollUsecs: usecs, BusyPollBudget: budget}
	if prefer {
		p.PreferBusyPoll = 1
	}
	_, errno := rawsys.Ioctl(s.ref.fd, rawsys.EPIOCSPARAMS, unsafe.Pointer(&p))
	s.ref.release()
	switch errno {
	case 0:
		return nil
	case syscall.ENOTTY, syscall.ENOSYS:
		// Before Linux 6.9 epoll has no ioctls (ENOTTY); qemu-user does not
		// forward unknown ioctls (ENOSYS).
		return &OpError{Op: "set busy poll", Fd: s.ref.fd, Err: ErrBusyPollUnsupported}
	}
	return opError("set busy poll", s.ref.fd, errno)
}

// pwait2 remembers whether the kernel has epoll_pwait2: 0 not yet known,
// 1 yes, 2 no. It is probed by the first Select with a positive timeout.
var pwait2 atomic.Int32

const (
	pwait2Unknown = iota
	pwait2Yes
	pwait2No
)

// notePwait2 records what an epoll_pwait2 call answered, when mode (what
// pwait2 held before the call) is not yet known, and says whether the call
// exists. ENOSYS: before Linux 5.11, and under qemu-user. EPERM: a seccomp
// filter written before the call existed answers EPERM instead
// (containers/podman#10337, buytenh/ivykis#33); epoll_pwait2 itself never
// returns EPERM (epoll_wait(2)), so both mean "not here", for good. Any
// other answer, EINTR included, comes from the call itself: an interrupted
// first call used to leave the probe unknown when no retry followed
// (TestNotePwait2). Only the first answer writes the shared word, so that
// timed Selects on several loops do not bounce its cache line.
func notePwait2(mode int32, errno syscall.Errno) bool {
	if errno == syscall.ENOSYS || errno == syscall.EPERM {
		pwait2.Store(pwait2No)
		return false
	}
	if mode == pwait2Unknown {
		pwait2.Store(pwait2Yes)
	}
	return true
}

// Select waits for events and stores them in ev, replacing its previous
// contents.
//
// A negative timeout blocks until an event arrives. A zero timeout polls
// once without blocking (one raw system call, without telling the
// scheduler). A positive timeout waits at most that long, with nanosecond
// precision on kernels that have epoll_pwait2 and rounded up to whole
// milliseconds elsewhere; values beyond what the kernel takes are clamped.
// A Select that can block tells the scheduler, so other goroutines keep
// running on the P.
//
// Select returns nil with ev.Len() == 0 when the timeout expires. EINTR
// never reaches the caller: Select retries with the time that remains.
// Its errors: ErrClosed once the Selector is closed (also for a Select
// blocked when Close came), the loop's signal to stop; ErrNoCapacity for
// nil or zero-capacity Events; and an *OpError from the kernel (EBADF,
// EINVAL, EFAULT), which no retry cures: a bug or a broken process. A
// correct program sees only the first.
func (s *Selector) Select(ev *Events, timeout time.Duration) error {
	// The poll an event loop makes between bursts, and the path make
	// bench-instr counts (EpollWaitEmpty/impl=rawsys): one raw stub inside
	// the reference, no scheduler call. Waits, bad arguments and a closed
	// Selector are selectSlow's; io_uring goes to uringSelect. buf is
	// read before the acquire, after whose atomic add the compiler would
	// read ev.buf and check its bounds again; each inlined call shares its
	// line with other code, which keeps the inliner's position-marking NOP
	// out of the path.
	if ev == nil || s == nil {
		return s.selectSlow(ev, timeout)
	}
	if s.ur != nil {
		if len(ev.buf) == 0 {
			return s.selectSlow(ev, timeout)
		}
		return s.uringSelect(ev, timeout)
	}
	if int64(timeout)|int64(ev.nd) != 0 { // a wait, or an io_uring Select's completions to end: one test
		return s.selectSlow(ev, timeout)
	}
	buf := ev.buf
	if len(buf) == 0 {
		return s.selectSlow(ev, timeout)
	}
	if !s.ref.take() {
		s.ref.acquireFailed()
		return s.selectSlow(ev, timeout)
	}
	var n int
	var errno syscall.Errno
	if n, errno = rawsys.EpollPwaitRaw(s.ref.fd, &buf[0], len(buf), 0); s.ref.releaseClosed() {
		// Closed while we polled: what the kernel returned may include
		// Close's wake-up, which is no event of the caller's.
		ev.n = 0
		return ErrClosed
	}
	// The stub returns n == -1 with an errno, or n >= 0 and none: one test
	// of n tells the three cases apart.
	if n > 0 {
		if closeWoke.Load() {
			n = dropCloseWakes(ev.buf, n)
		}
	} else if n < 0 {
		return s.selectFailed(ev, 0, errno)
	}
	ev.n = n
	return nil
}

// selectSlow is Select with a timeout, with arguments it refuses, or on a
// closed Selector.
func (s *Selector) selectSlow(ev *Events, timeout time.Duration) error {
	if ev == nil || len(ev.buf) == 0 {
		ev.Clear()
		return ErrNoCapacity
	}
	if s != nil && s.ur != nil {
		return s.uringSelect(ev, timeout)
	}
	if ev.nd != 0 {
		// These Events were last filled by an io_uring Select: its
		// completions end with this Select, and the buffers they lend go
		// back to their ring, as the next Select of that ring would do.
		ev.nd = 0
		ev.lent.giveBack()
		if timeout == 0 {
			return s.Select(ev, 0) // nd is 0: the fast path
		}
	}
	if s == nil || timeout == 0 || !s.ref.acquire() {
		// A zero timeout comes here only when Select's acquire failed.
		ev.n = 0
		return ErrClosed
	}
	n, errno := s.wait(ev.buf, timeout)
	if s.ref.releaseClosed() {
		// Closed while we waited: as in Select.
		ev.n = 0
		return ErrClosed
	}
	if errno != 0 {
		return s.selectFailed(ev, timeout, errno)
	}
	ev.n = n
	return nil
}

// selectFailed is Select's cold path. A zero-timeout epoll_wait does not
// sleep, so it cannot see EINTR in practice (ep_poll in fs/eventpoll.c
// returns before checking for signals); if a kernel ever does, the poll is
// simply made again. Timed waits retry EINTR inside wait.
func (s *Selector) selectFailed(ev *Events, timeout time.Duration, errno syscall.Errno) error {
	ev.n = 0
	if errno == syscall.EINTR && timeout == 0 {
		return s.Select(ev, 0)
	}
	return opError("select", s.Fd(), errno)
}

// wait is Select's blocking path: it retries EINTR with the time that
// remains, and waits again when all it got was Close wake-ups of another
// Selector sharing the instance (they are level-triggered: the wait
// returns at once until that Close completes, so yield meanwhile).
func (s *Selector) wait(buf []sysEvent, timeout time.Duration) (int, syscall.Errno) {
	var deadline int64
	if timeout > 0 {
		if pwait2.Load() == pwait2No {
			// Millisecond mode: the wait lasts the rounded-up timeout, in
			// this loop's retries too (TestReview7MillisecondFallbackCloseWake:
			// with the unrounded deadline, a clone's Select returned at
			// 300 µs while another handle's Close was in flight). wait1
			// rounds by itself when it finds out in mid-wait.
			timeout = time.Duration(ceilMillis(timeout)) * time.Millisecond
		}
		deadline = deadlineAfter(timeout)
	}
	for {
		n, errno := s.wait1(buf, timeout, deadline)
		if n <= 0 || !closeWoke.Load() {
			return n, errno
		}
		if n = dropCloseWakes(buf, n); n > 0 || s.ref.isClosed() {
			return n, 0
		}
		runtime.Gosched()
		if timeout > 0 {
			if timeout = time.Duration(deadline - nanotime()); timeout <= 0 {
				return 0, 0
			}
		}
	}
}

func (s *Selector) wait1(buf []sysEvent, timeout time.Duration, deadline int64) (int, syscall.Errno) {
	fd, p, max := s.ref.fd, &buf[0], len(buf)
	if timeout < 0 {
		for {
			n, errno := rawsys.EpollPwait(fd, p, max, -1)
			if errno != syscall.EINTR {
				return n, errno
			}
		}
	}
	// wait has rounded timeout and deadline up already when it knew of
	// millisecond mode; otherwise this wait finds out from ENOSYS below.
	rounded := pwait2.Load() == pwait2No
	for {
		var n int
		var errno syscall.Errno
		if mode := pwait2.Load(); mode != pwait2No {
			ts := rawsys.Timespec{Sec: int64(timeout / time.Second), Nsec: int64(timeout % time.Second)}
			n, errno = rawsys.EpollPwait2(fd, p, max, &ts)
			if !notePwait2(mode, errno) {
				continue // not here: the same timeout in milliseconds
			}
		} else {
			ms := ceilMillis(timeout)
			if !rounded {
				// Found out in mid-wait: the wait ends when the rounded-up
				// milliseconds do, also for the retry after EINTR (from
				// the unrounded deadline a signal between the two left no
				// time, and Select returned before the millisecond its doc
				// promises: TestReview6MillisecondFallbackEINTR).
				rounded = true
				if end := nanotime() + int64(ms)*int64(time.Millisecond); end > deadline {
					deadline = end
				}
			}
			n, errno = rawsys.EpollPwait(fd, p, max, ms)
		}
		if errno != syscall.EINTR {
			return n, errno
		}
		// Interrupted: wait again for what remains, and when nothing does,
		// poll once so that events that arrived meanwhile are not missed.
		timeout = time.Duration(deadline - nanotime())
		if timeout <= 0 {
			for {
				n, errno = rawsys.EpollPwaitRaw(fd, p, max, 0)
				if errno != syscall.EINTR {
					return n, errno
				}
			}
		}
	}
}

// ceilMillis rounds a positive timeout up to whole milliseconds (so 1ns
// waits 1ms rather than not at all) and clamps it to what an int timeout
// holds (about 24.8 days).
func ceilMillis(d time.Duration) int {
	const maxMillis = 1<<31 - 1
	if d >= maxMillis*time.Millisecond {
		return maxMillis
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// Token returns the token the event's fd was registered with.
func (e *Event) Token() Token { return Token((*rawsys.EpollEvent)(e).Data()) }

func (e *Event) flags() uint32 { return (*rawsys.EpollEvent)(e).Events() }

// IsReadable reports read readiness: EPOLLIN, or EPOLLPRI (urgent data is
// data to read).
func (e *Event) IsReadable() bool { return e.flags()&(rawsys.EPOLLIN|rawsys.EPOLLPRI) != 0 }

// IsWritable reports write readiness: EPOLLOUT.
func (e *Event) IsWritable() bool { return e.flags()&rawsys.EPOLLOUT != 0 }

// IsError reports an error condition on the fd: EPOLLERR. Read the error
// with getsockopt(SO_ERROR).
func (e *Event) IsError() bool { return e.flags()&rawsys.EPOLLERR != 0 }

// IsReadClosed reports that the read side is closed: EPOLLHUP, or EPOLLIN
// with EPOLLRDHUP (the peer shut down writing).
func (e *Event) IsReadClosed() bool {
	f := e.flags()
	return f&rawsys.EPOLLHUP != 0 || f&(rawsys.EPOLLIN|rawsys.EPOLLRDHUP) == rawsys.EPOLLIN|rawsys.EPOLLRDHUP
}

// IsWriteClosed reports that the write side is closed: EPOLLHUP, EPOLLOUT
// with EPOLLERR, or EPOLLERR alone (a pipe whose reader is gone reports
// only EPOLLERR).
func (e *Event) IsWriteClosed() bool {
	f := e.flags()
	return f&rawsys.EPOLLHUP != 0 ||
		f&(rawsys.EPOLLOUT|rawsys.EPOLLERR) == rawsys.EPOLLOUT|rawsys.EPOLLERR ||
		f == rawsys.EPOLLERR
}

// IsPriority reports urgent data: EPOLLPRI.
func (e *Event) IsPriority() bool { return e.flags()&rawsys.EPOLLPRI != 0 }

// IsAIO is always false on epoll.
func (e *Event) IsAIO() bool { return false }

// IsLIO is always false on epoll.
func (e *Event) IsLIO() bool { return false }

var epollFlagNames = []flagName{
	{rawsys.EPOLLIN, "EPOLLIN"}, {rawsys.EPOLLPRI, "EPOLLPRI"}, {rawsys.EPOLLOUT, "EPOLLOUT"},
	{rawsys.EPOLLERR, "EPOLLERR"}, {rawsys.EPOLLHUP, "EPOLLHUP"}, {rawsys.EPOLLRDNORM, "EPOLLRDNORM"},
	{rawsys.EPOLLRDBAND, "EPOLLRDBAND"}, {rawsys.EPOLLWRNORM, "EPOLLWRNORM"},
	{rawsys.EPOLLWRBAND, "EPOLLWRBAND"}, {rawsys.EPOLLMSG, "EPOLLMSG"}, {rawsys.EPOLLRDHUP, "EPOLLRDHUP"},
}

func (e *Event) details() string {
	return "EpollEvent{events: " + flagNames(uint64(e.flags()), epollFlagNames) + "}"
}
