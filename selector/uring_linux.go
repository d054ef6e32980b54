//go:build linux && !rawpoll_forcepoll && (amd64 || arm64)

package selector

// The io_uring backend: each registration is a multishot
// IORING_OP_POLL_ADD (Linux 5.13+), and Select reads readiness from the
// completion ring, a kernel buffer mapped into the process, so a Select
// that finds completions waiting makes no system call. Registration
// changes are queued in the submission ring and submitted by the next
// Select's single io_uring_enter, or at once when a Select is waiting in
// the kernel. It is chosen at run time (WithBackend, RAWPOLL_BACKEND) and
// falls back to epoll where io_uring is missing or refused.
//
// A completion names its registration by user data: slot and generation.
// Deregister and Reregister move the generation on, so a completion of a
// registration since removed or changed is recognised and dropped; tokens
// stay the caller's, any 64-bit value, the same on two descriptors if it
// likes.
//
// Clones share one ring; each has a descriptor of its own (a dup of the
// ring's) for Fd and for its waits. Close of one wakes the Selects blocked
// on it with a NOP completion (io_uring wakes every waiter on a new
// completion, io_cqring_wake in io_uring/io_uring.h); the Selects of the
// others take the NOP, which carries no event, and wait again.

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// Ring sizes (variables for the tests that overflow a small ring).
var (
	uringSQEntries uint32 = 256  // registration changes between two enters
	uringCQEntries uint32 = 4096 // completions between two reaps; more overflow, nothing lost (NODROP)
)

const (
	// User data. A registration's: bit 63 clear, the generation in bits
	// 24-55, the slot in bits 0-23. Internal requests': bit 63 set, the
	// kind in bits 56-62, then a generation and a slot the same way, so
	// that the user data of the registration an internal request is about
	// can be rebuilt from its own.
	udSlotBits   = 24
	udSlotMask   = 1<<udSlotBits - 1
	udInternal   = 1 << 63
	udKindShift  = 56
	udGenMask    = 1<<32 - 1
	uringMaxRegs = udSlotMask + 1

	kindWake   = 1 // a NOP that wakes the waiting Selects
	kindRemove = 2 // the cancel of a registration's poll, by Deregister
	kindUpdate = 3 // the in-place update of a Reregister (carries the old generation)
	kindSend   = 4 // a Send
	kindRecv   = 5 // a Recv (multishot, into the buffer ring)
	kindCancel = 6 // the cancel of a Recv, by Deregister
	kindKick   = 7 // the poll of the kick eventfd (see kick)

	// The buffer ring Recv takes from: made at the first Recv.
	uringBufGroup = 0
	uringBufCount = 1024
	uringBufSize  = 4096
)

func regUserData(slot uint32, gen uint64) uint64 { return gen<<udSlotBits | uint64(slot) }

func internalUserData(kind uint64, slot uint32, gen uint64) uint64 {
	return udInternal | kind<<udKindShift | (gen&udGenMask)<<udSlotBits | uint64(slot)
}

// regOf rebuilds, from an internal request's user data, the user data of
// the registration it is about.
func regOf(ud uint64) uint64 { return ud &^ (udInternal | 0x7f<<udKindShift) }

// nextGen moves a generation on, skipping 0.
func nextGen(g uint64) uint64 {
	if g = (g + 1) & udGenMask; g == 0 {
		g = 1
	}
	return g
}

// uringSend keeps a Send's buffer reachable (the kernel reads it by
// address) until its completion hands it back.
type uringSend struct {
	buf   []byte
	token Token
	gen   uint64
	fd    int32
}

type uringRecv struct {
	fd       int32
	live     bool
	stopping bool // StopRecv: cancelled; its chunks still come, then a last -ECANCELED
	// starved: ended by ENOBUFS with no buffer published since it was
	// armed, so not in the kernel; publish arms it again. armPub is the
	// pubGen it was armed at.
	starved bool
	armPub  uint64
	gen     uint64
	token   Token
}

type uringReg struct {
	fd     int32
	live   bool
	armed  bool // a multishot poll with this generation's user data is in flight or queued
	gen    uint64
	token  Token
	events uint32 // the poll mask asked for
	hup    uint32 // hang-up bits seen (POLLRDHUP, POLLHUP), reported with every later event
}

// uringState is what a Selector and its clones share.
type uringState struct {
	mu       sync.Mutex
	ring     *rawsys.IoUring // nil once the last handle is gone
	regs     []uringReg
	free     []uint32
	byFd     map[int32]uint32
	sends    []uringSend // Sends in flight, by slot
	sendFree []uint32
	recvs    []uringRecv // Recvs, by slot
	recvFree []uint32
	recvByFd map[int32]uint32
	pubGen   uint64                 // buffer publishes so far
	starved  []uint32               // recv slots waiting for a publish (uringRecv.starved)
	sendByFd map[int32]uint32       // the one Send in flight per fd
	bufs     *rawsys.IoUringBufRing // made by the first Recv
	lentOut  int                    // its buffers lent to Events (Completion.Buf)
	kickFd   int                    // an eventfd whose poll wakes a waiting Select (kick)
	ringDev  uint64                 // the ring file's device and inode: Register refuses the ring itself
	ringIno  uint64
	handles  int         // handles not yet destroyed; the ring goes with the last
	waiting  int         // Selects inside io_uring_enter
	zombies  int         // ... of which on closed handles: Close's wake-up must reach each
	wakes    int         // wake NOPs submitted and not yet reaped
	queued   atomic.Bool // SQEs queued and not submitted (written under mu; read without it by Select's empty check)
}

// uringSelects is the state a handle keeps about its own Selects, under
// the shared mu.
type uringHandle struct {
	st      *uringState
	waiting int  // this handle's Selects inside io_uring_enter, or about to enter
	closed  bool // Close has run wakeBlocked
}

// newUring sets up a ring and returns a Selector on it, or the refusal
// that sends New to epoll.
func newUring() (*Selector, error) {
	if err := uringUsable(); err != nil {
		return nil, err
	}
	// COOP_TASKRUN (5.19): the kernel posts a completion from task work
	// on the thread that submitted the request, and by default interrupts
	// that thread with an IPI if it is running, for every completion: a
	// virtual machine's most expensive event. Cooperative, the work waits
	// for that thread's next entry into the kernel (an event loop's next
	// Select), or wakes it if it sleeps (TWA_SIGNAL_NO_IPI, kernel commit
	// e1169f06d5bb); TASKRUN_FLAG says in the SQ flags that work waits, so
	// a zero-timeout Select knows to enter. A kernel before 5.19 refuses
	// the flags (EINVAL): then without.
	p := rawsys.IoUringParams{Flags: rawsys.IORING_SETUP_CQSIZE | rawsys.IORING_SETUP_CLAMP |
		rawsys.IORING_SETUP_COOP_TASKRUN | rawsys.IORING_SETUP_TASKRUN_FLAG, CqEntries: uringCQEntries}
	ring, errno := rawsys.NewIoUring(uringSQEntries, &p)
	if errno == syscall.EINVAL {
		p = rawsys.IoUringParams{Flags: rawsys.IORING_SETUP_CQSIZE | rawsys.IORING_SETUP_CLAMP, CqEntries: uringCQEntries}
		ring, errno = rawsys.NewIoUring(uringSQEntries, &p)
	}
	if errno != 0 {
		return nil, opError("new", -1, errno)
	}
	kickFd, errno := rawsys.Eventfd2(0, rawsys.EFD_CLOEXEC|rawsys.EFD_NONBLOCK)
	if errno != 0 {
		ring.Close()
		return nil, opError("new", -1, errno)
	}
	st := &uringState{ring: ring, kickFd: kickFd, byFd: map[int32]uint32{}, recvByFd: map[int32]uint32{}, sendByFd: map[int32]uint32{}}
	var fs unix.Stat_t
	if err := unix.Fstat(ring.Fd(), &fs); err == nil {
		// Every io_uring file has an inode of its own (anon_inode_getfile_secure
		// since 5.12), unlike eventfd and epoll, which share one.
		st.ringDev, st.ringIno = uint64(fs.Dev), uint64(fs.Ino)
	}
	st.armKick() // submitted by the first Select
	s, err := st.newHandle()
	if err != nil {
		ring.Close()
		closeFd(kickFd)
		return nil, err
	}
	return s, nil
}

// newHandle makes a Selector on st, with a dup of the ring's descriptor
// (F_DUPFD_CLOEXEC).
func (st *uringState) newHandle() (*Selector, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ring == nil {
		return nil, ErrClosed
	}
	fd, err := dupCloexec(st.ring.Fd())
	if err != nil {
		return nil, err
	}
	h := &uringHandle{st: st}
	s := &Selector{ur: h}
	s.ref.init(fd)
	s.ref.hook = h.gone
	st.handles++
	return s, nil
}

// gone runs when a handle's descriptor is closed for good (no call holds
// it): the last one takes the ring with it.
func (h *uringHandle) gone() {
	st := h.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.handles--; st.handles == 0 && st.ring != nil {
		st.ring.Close() // the kernel cancels every request: the files are released
		st.ring = nil
		closeFd(st.kickFd)
		if st.bufs != nil && st.lentOut == 0 {
			// After the ring: nothing can take a buffer any more. Buffers
			// lent to Events stay mapped until they are given back (the
			// next Select or Clear on those Events; Events dropped with loans keep
			// them mapped for good, as Completion.Buf says).
			st.bufs.Close()
			st.bufs = nil
		}
		st.sends = nil // the kernel has let go of every buffer
	}
}

// wakeBlocked is Close's wake-up for a handle with Selects blocked in the
// kernel: one NOP completion wakes every waiter of the ring; those of this
// handle see it closed. The caller holds a reference on the handle.
//
// A Select counts itself waiting before it lets go of mu and enters the
// kernel, so the NOP may be posted before it gets there, and a clone's
// Select may take it first (it carries no event, so the clone waits
// again): then the late Select would sleep with the ring empty. So the
// waiters of closed handles are counted (zombies), and whoever reaps a
// wake NOP posts another while more of them wait than NOPs are in flight.
func (h *uringHandle) wakeBlocked() {
	st := h.st
	st.mu.Lock()
	defer st.mu.Unlock()
	h.closed = true
	st.zombies += h.waiting
	if h.waiting > 0 && st.ring != nil {
		st.queueWake()
		st.submit()
	}
}

// enterWait and leaveWait count a Select in and out of its wait in the
// kernel. Caller holds mu.
func (st *uringState) enterWait(h *uringHandle) {
	st.waiting++
	h.waiting++
}

func (st *uringState) leaveWait(h *uringHandle) {
	st.waiting--
	h.waiting--
	if h.closed {
		st.zombies--
	}
}

func (st *uringState) queueWake() {
	if sqe := st.sqe(); sqe != nil {
		sqe.PrepNop()
		sqe.UserData = internalUserData(kindWake, 0, 0)
		st.wakes++
	}
}

// sqe returns a free submission entry, submitting what is queued when the
// ring is full. Caller holds mu.
func (st *uringState) sqe() *rawsys.IoUringSqe {
	if sqe := st.ring.GetSqe(); sqe != nil {
		st.queued.Store(true)
		return sqe
	}
	st.submit()
	sqe := st.ring.GetSqe()
	if sqe != nil {
		st.queued.Store(true)
	}
	return sqe
}

// submit hands what is queued to the kernel: io_uring_enter without
// waiting, which cannot block (IoUringEnterRaw). Caller holds mu.
func (st *uringState) submit() syscall.Errno {
	st.queued.Store(false)
	for {
		_, errno := st.ring.Submit()
		if errno != syscall.EINTR {
			return errno
		}
	}
}

// uringEnterFlags are the SQ flags that ask for an enter with GETEVENTS:
// completions in the kernel's overflow list (IORING_FEAT_NODROP), and
// completion work waiting for this ring (TASKRUN_FLAG).
const uringEnterFlags = rawsys.IORING_SQ_CQ_OVERFLOW | rawsys.IORING_SQ_TASKRUN

// enterNoWait submits what is queued and runs this thread's pending
// completion work, without waiting (GETEVENTS with min_complete 0 cannot
// block). Caller holds mu.
func (st *uringState) enterNoWait() {
	toSubmit := st.ring.FlushSq()
	st.queued.Store(false)
	for {
		_, errno := rawsys.IoUringEnterRaw(st.ring.Fd(), toSubmit, 0, rawsys.IORING_ENTER_GETEVENTS, nil, 0)
		if errno != syscall.EINTR {
			return
		}
	}
}

// kick makes a Select waiting in the kernel come out and submit what is
// queued (it would not see the change until it wakes); otherwise the next
// Select's enter submits. It writes to the ring's kick eventfd instead of
// submitting from this thread: a poll's completion work runs on the
// thread that submitted it, and with cooperative task work that thread
// must be one that enters the kernel for the ring, the Select's.
func (st *uringState) kick() {
	if st.waiting > 0 && st.queued.Load() {
		one := [8]byte{1}
		if _, errno := rawsys.Write(st.kickFd, one[:]); errno != 0 && errno != syscall.EAGAIN {
			st.submit() // cannot happen with a live eventfd; submit rather than lose the change
		}
	}
}

// armKick queues the multishot poll of the kick eventfd. Caller holds mu
// (or owns st, at creation).
func (st *uringState) armKick() {
	if sqe := st.sqe(); sqe != nil {
		sqe.PrepPollAdd(st.kickFd, rawsys.POLLIN, rawsys.IORING_POLL_ADD_MULTI)
		sqe.UserData = internalUserData(kindKick, 0, 0)
	}
}

func uringMask(in Interest) uint32 {
	var m uint32
	if in&Readable != 0 {
		m |= rawsys.POLLIN | rawsys.POLLRDHUP
	}
	if in&Writable != 0 {
		m |= rawsys.POLLOUT
	}
	if in&Priority != 0 {
		m |= rawsys.POLLPRI
	}
	return m
}

// arm queues the multishot poll of a slot. Caller holds mu.
func (st *uringState) arm(slot uint32) {
	r := &st.regs[slot]
	sqe := st.sqe()
	if sqe == nil {
		return // cannot happen: submit frees the whole ring; stays unarmed
	}
	sqe.PrepPollAdd(int(r.fd), r.events, rawsys.IORING_POLL_ADD_MULTI)
	sqe.UserData = regUserData(slot, r.gen)
	r.armed = true
}

func (s *Selector) uringRegister(fd int, t Token, in Interest) error {
	if !s.ref.acquire() {
		return ErrClosed
	}
	defer s.ref.release()
	st := s.ur.st
	// The kernel would fail the poll of a closed fd only in its
	// completion; check now, as epoll_ctl does. A socket, the common
	// case, is known by getsockopt(SO_TYPE), which fails with EBADF for a
	// closed fd and for an O_PATH one (no file operations: fdget skips
	// them, and epoll_ctl says EBADF too), and ENOTSOCK for any other
	// file, which fstat then looks at. Neither blocks.
	var typ int32
	tl := uint32(unsafe.Sizeof(typ))
	switch errno := rawsys.Getsockopt(fd, unix.SOL_SOCKET, unix.SO_TYPE, unsafe.Pointer(&typ), &tl); errno {
	case 0:
	case syscall.ENOTSOCK:
		var fs unix.Stat_t
		if err := unix.Fstat(fd, &fs); err != nil {
			return &OpError{Op: "register", Fd: fd, Err: err}
		}
		if uint64(fs.Dev) == st.ringDev && uint64(fs.Ino) == st.ringIno { // (widths vary by GOARCH)
			// The ring itself (any handle's Fd: dups share the file). Its
			// poll request would hold a reference to the ring's own file,
			// so the last close never releases the ring, nor any file its
			// requests hold. epoll refuses to watch itself with EINVAL.
			return opError("register", fd, syscall.EINVAL)
		}
		if uint64(fs.Dev) == st.ringDev && isRing(fd) {
			// Another io_uring instance (ring files live on the same
			// anonymous-inode device). Two rings polling each other hold
			// each other's file: closing both releases neither, nor any
			// file their requests hold. epoll_ctl finds such loops
			// (ep_loop_check, ELOOP); io_uring has no check, so no ring
			// is watched from a ring.
			return opError("register", fd, syscall.EINVAL)
		}
		if errno := pollable(fd); errno != 0 {
			return opError("register", fd, errno)
		}
	default:
		return opError("register", fd, errno)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.byFd[int32(fd)]; dup {
		return opError("register", fd, syscall.EEXIST)
	}
	var slot uint32
	if n := len(st.free); n > 0 {
		slot = st.free[n-1]
		st.free = st.free[:n-1]
	} else {
		if len(st.regs) == uringMaxRegs {
			return opError("register", fd, syscall.ENOSPC)
		}
		slot = uint32(len(st.regs))
		st.regs = append(st.regs, uringReg{gen: 1})
	}
	r := &st.regs[slot]
	r.fd, r.live, r.armed, r.token, r.events, r.hup = int32(fd), true, false, t, uringMask(in), 0
	st.byFd[int32(fd)] = slot
	st.arm(slot)
	st.kick()
	return nil
}

func (s *Selector) uringReregister(fd int, t Token, in Interest) error {
	if !s.ref.acquire() {
		return ErrClosed
	}
	defer s.ref.release()
	st := s.ur.st
	st.mu.Lock()
	defer st.mu.Unlock()
	slot, ok := st.byFd[int32(fd)]
	if !ok {
		return opError("reregister", fd, notRegistered(fd))
	}
	r := &st.regs[slot]
	oldGen := r.gen
	old := regUserData(slot, oldGen)
	r.gen = nextGen(r.gen)
	r.token, r.events = t, uringMask(in)
	if !r.armed {
		st.arm(slot)
	} else if sqe := st.sqe(); sqe != nil {
		// In place: the poll keeps its place in the file's wait queue and
		// re-checks readiness with the new mask (io_poll_remove in
		// io_uring/poll.c re-adds it), so an fd already ready is reported.
		sqe.PrepPollUpdate(old, regUserData(slot, r.gen), r.events,
			rawsys.IORING_POLL_UPDATE_EVENTS|rawsys.IORING_POLL_UPDATE_USER_DATA|rawsys.IORING_POLL_ADD_MULTI)
		sqe.UserData = internalUserData(kindUpdate, slot, oldGen)
	}
	st.kick()
	return nil
}

func (s *Selector) uringDeregister(fd int) error {
	if !s.ref.acquire() {
		return ErrClosed
	}
	defer s.ref.release()
	st := s.ur.st
	st.mu.Lock()
	defer st.mu.Unlock()
	polled := st.deregister(int32(fd))
	stopped := st.dropRecv(int32(fd))
	if slot, ok := st.sendByFd[int32(fd)]; ok {
		// A Send waiting for room would hold the socket (and its buffer)
		// as long as the peer does not read: cancel it. Its completion
		// (-ECANCELED, or what it managed) hands the buffer back.
		if sqe := st.sqe(); sqe != nil {
			sqe.PrepCancel(internalUserData(kindSend, slot, st.sends[slot].gen), 0)
			sqe.UserData = internalUserData(kindCancel, slot, 0)
		}
		stopped = true
	}
	if !stopped && !polled {
		return opError("deregister", fd, notRegistered(fd))
	}
	// Submit now, whatever is queued: an SQE names its fd by number, read
	// when the kernel takes the SQE, and the caller closes fd next; its
	// number must not be looked up after that, when it may be another
	// file's.
	if st.queued.Load() {
		st.submit()
	}
	return nil
}

// dropRecv cancels fd's Recv, if it has one, for Deregister: completions
// still in the ring for it are dropped (their buffers given back). Caller
// holds mu.
func (st *uringState) dropRecv(fd int32) bool {
	slot, ok := st.recvByFd[fd]
	if !ok {
		return false
	}
	r := &st.recvs[slot]
	if sqe := st.sqe(); sqe != nil {
		sqe.PrepCancel(internalUserData(kindRecv, slot, r.gen), 0)
		sqe.UserData = internalUserData(kindCancel, slot, r.gen)
	}
	r.live, r.starved = false, false
	r.gen = nextGen(r.gen)
	delete(st.recvByFd, fd)
	st.recvFree = append(st.recvFree, slot)
	return true
}

// uringSend queues a send of p on fd (IORING_OP_SEND, MSG_NOSIGNAL).
func (s *Selector) uringSend(fd int, t Token, p []byte) error {
	if len(p) > 1<<30 {
		return opError("send", fd, syscall.EINVAL)
	}
	if !s.ref.acquire() {
		return ErrClosed
	}
	defer s.ref.release()
	st := s.ur.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, busy := st.sendByFd[int32(fd)]; busy {
		// The kernel does not order two sends on one socket (each waits
		// for room on its own): one at a time keeps the stream in order.
		return opError("send", fd, syscall.EBUSY)
	}
	var slot uint32
	if n := len(st.sendFree); n > 0 {
		slot = st.sendFree[n-1]
		st.sendFree = st.sendFree[:n-1]
	} else {
		if len(st.sends) == uringMaxRegs {
			return opError("send", fd, syscall.ENOSPC)
		}
		slot = uint32(len(st.sends))
		st.sends = append(st.sends, uringSend{gen: 1})
	}
	sqe := st.sqe()
	if sqe == nil {
		st.sendFree = append(st.sendFree, slot)
		return opError("send", fd, syscall.EAGAIN)
	}
	sd := &st.sends[slot]
	sd.buf, sd.token, sd.fd = p, t, int32(fd)
	st.sendByFd[int32(fd)] = slot
	// MSG_WAITALL: the kernel sends all of p, waiting for room as long as
	// it takes (io_send in io_uring/net.c retries a short send then), so a
	// completion is the whole buffer or an error. MSG_NOSIGNAL: a peer gone
	// is EPIPE in Res, never a SIGPIPE.
	sqe.PrepSend(fd, p, unix.MSG_NOSIGNAL|unix.MSG_WAITALL)
	sqe.UserData = internalUserData(kindSend, slot, sd.gen)
	st.kick()
	return nil
}

// uringRecv starts a multishot receive on fd into the buffer ring.
func (s *Selector) uringRecv(fd int, t Token) error {
	if !s.ref.acquire() {
		return ErrClosed
	}
	defer s.ref.release()
	st := s.ur.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.recvByFd[int32(fd)]; dup {
		return opError("recv", fd, syscall.EEXIST)
	}
	if st.bufs == nil {
		b, errno := st.ring.NewBufRing(uringBufGroup, uringBufCount, uringBufSize)
		if errno != 0 {
			return opError("recv", fd, errno) // EINVAL before Linux 5.19 (no IORING_REGISTER_PBUF_RING)
		}
		st.bufs = b
	}
	var slot uint32
	if n := len(st.recvFree); n > 0 {
		slot = st.recvFree[n-1]
		st.recvFree = st.recvFree[:n-1]
	} else {
		slot = uint32(len(st.recvs))
		st.recvs = append(st.recvs, uringRecv{gen: 1})
	}
	r := &st.recvs[slot]
	r.fd, r.live, r.token = int32(fd), true, t
	st.recvByFd[int32(fd)] = slot
	st.armRecv(slot)
	st.kick()
	return nil
}

// uringStopRecv cancels fd's Recv for flow control: what it has received
// is still reported, and its last completion (More false) says it has
// stopped.
func (s *Selector) uringStopRecv(fd int) error {
	if !s.ref.acquire() {
		return ErrClosed
	}
	defer s.ref.release()
	st := s.ur.st
	st.mu.Lock()
	defer st.mu.Unlock()
	slot, ok := st.recvByFd[int32(fd)]
	if !ok {
		return opError("stop recv", fd, syscall.ENOENT)
	}
	r := &st.recvs[slot]
	if r.stopping {
		return nil
	}
	if r.starved {
		// Not in the kernel: armed again, so that the cancel has a request
		// to end and the last completion comes (at once, -ENOBUFS taken as
		// stopped, unless buffers came back meanwhile).
		st.armRecv(slot)
	}
	sqe := st.sqe()
	if sqe == nil {
		return opError("stop recv", fd, syscall.EAGAIN)
	}
	sqe.PrepCancel(internalUserData(kindRecv, slot, r.gen), 0)
	sqe.UserData = internalUserData(kindCancel, slot, 0)
	r.stopping = true
	st.kick()
	return nil
}

func (st *uringState) armRecv(slot uint32) {
	r := &st.recvs[slot]
	r.starved, r.armPub = false, st.pubGen
	if sqe := st.sqe(); sqe != nil {
		sqe.PrepRecvProvided(int(r.fd), uringBufGroup, 0, true)
		sqe.UserData = internalUserData(kindRecv, slot, r.gen)
	}
}

// cancelPoll ends the poll whose user data is ud: an ASYNC_CANCEL, not a
// POLL_REMOVE. A POLL_REMOVE that finds the poll busy (its completion work
// running) fails with -EALREADY and leaves it armed (io_poll_remove and
// io_poll_disarm in io_uring/poll.c), holding the file open for good: a
// socket closed after Deregister would then never be closed. A cancel
// marks the poll cancelled and its own completion work ends it
// (io_poll_cancel_req). Caller holds mu.
func (st *uringState) cancelPoll(ud uint64) {
	if sqe := st.sqe(); sqe != nil {
		sqe.PrepCancel(ud, 0)
		sqe.UserData = ud | udInternal | kindRemove<<udKindShift
	}
}

// deregister removes fd's registration: its poll is removed (the kernel
// drops its reference to the file then) and its generation moves on, so
// completions still in the ring are dropped. Caller holds mu.
func (st *uringState) deregister(fd int32) bool {
	slot, ok := st.byFd[fd]
	if !ok {
		return false
	}
	r := &st.regs[slot]
	if r.armed {
		st.cancelPoll(regUserData(slot, r.gen))
	}
	r.gen = nextGen(r.gen)
	r.live, r.armed = false, false
	delete(st.byFd, fd)
	st.free = append(st.free, slot)
	return true
}

// pollable is 0 when fd's file has a poll method, else the errno epoll_ctl
// answers: EPERM for a regular file, a directory, /dev/null
// (epoll_ctl(2)). io_uring accepts those, but without a wait queue the
// kernel ends a multishot poll of them at once, without IORING_CQE_F_MORE,
// and re-arming it completes at once again: the file would be reported by
// every Select, level- not edge-triggered, and a loop registering one
// would spin. Refused as epoll refuses them, on the same kernel; and an
// O_PATH descriptor (of a FIFO, say) with EBADF, as epoll_ctl answers.
// Sockets are not asked (Register knows them): they always can. The probe
// is an epoll instance of its own, closed at once (closing it removes the
// entry): three system calls, on a path that registers pipes, eventfds,
// timerfds or ttys, not connections.
func pollable(fd int) syscall.Errno {
	ep, errno := rawsys.EpollCreate1(rawsys.EPOLL_CLOEXEC)
	if errno != 0 {
		return 0 // no answer (EMFILE): the kernel's poll will tell
	}
	defer closeFd(ep)
	var ev rawsys.EpollEvent
	switch errno := rawsys.EpollCtl(ep, rawsys.EPOLL_CTL_ADD, fd, &ev); errno {
	case syscall.EPERM, syscall.EBADF:
		return errno
	default: // 0; ENOMEM, ENOSPC: no answer
		return 0
	}
}

// isRing reports whether fd is an io_uring instance: io_uring_register
// answers EOPNOTSUPP for any other file before it looks at the opcode
// (io_uring_register_get_file in io_uring/register.c), and a PROBE without
// a table changes nothing (EINVAL, or EEXIST/ENXIO/EACCES from the ring's
// own checks, all of which say it is a ring). It asks only files on the
// anonymous-inode device: eventfds, timerfds, epoll instances.
func isRing(fd int) bool {
	_, errno := rawsys.IoUringRegister(fd, rawsys.IORING_REGISTER_PROBE, nil, 0)
	return errno != syscall.EOPNOTSUPP && errno != syscall.EBADF
}

// notRegistered is the error for an fd the ring has no registration of:
// EBADF when it is not open, as epoll_ctl answers, else ENOENT (F_GETFD
// cannot block).
func notRegistered(fd int) syscall.Errno {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
		return syscall.EBADF
	}
	return syscall.ENOENT
}

// uringDeregisterWaker removes a Waker's eventfd from the ring even when
// the Selector it was made with has been closed, while a clone keeps the
// ring: the poll holds a reference to the eventfd's file.
func (s *Selector) uringDeregisterWaker(fd int) {
	st := s.ur.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ring != nil && st.deregister(int32(fd)) && st.queued.Load() {
		st.submit() // now: the Waker closes its eventfd next
	}
}

func (s *Selector) uringClone() (*Selector, error) {
	if !s.ref.acquire() {
		return nil, ErrClosed
	}
	defer s.ref.release()
	return s.ur.st.newHandle()
}

// uringSelect is Select on io_uring. Completions already in the ring are
// taken without a system call; otherwise one io_uring_enter submits what
// is queued and waits (GETEVENTS, EXT_ARG with a nanosecond timeout).
func (s *Selector) uringSelect(ev *Events, timeout time.Duration) error {
	// This Select ends the loans of the last one, whatever it returns.
	ev.nd = 0
	if len(ev.lent.bids) > 0 {
		ev.lent.giveBack()
	}
	if !s.ref.acquire() {
		ev.n = 0
		return ErrClosed
	}
	defer s.ref.release()
	h, st := s.ur, s.ur.st
	if timeout == 0 && !st.queued.Load() && st.ring.CqReady() == 0 && st.ring.SqFlags()&uringEnterFlags == 0 {
		// Nothing to submit, nothing in the ring, nothing in the overflow
		// list: an empty poll costs three loads of shared memory. (The
		// ring is mapped while this handle is open, and the ref is held.)
		ev.n = 0
		return nil
	}
	var deadline int64
	if timeout > 0 {
		deadline = deadlineAfter(timeout)
	}
	st.mu.Lock()
	for {
		if s.ref.isClosed() {
			st.mu.Unlock()
			ev.n = 0
			return ErrClosed
		}
		if timeout == 0 && st.queued.Load() || st.ring.SqFlags()&uringEnterFlags != 0 {
			// Queued changes first, so that a registration of a ready fd
			// is reported by this very Select: the kernel checks readiness
			// as it arms the poll. GETEVENTS also moves completions from
			// the kernel's overflow list into the ring (IORING_FEAT_NODROP).
			st.enterNoWait()
		}
		n := st.reap(ev)
		if n > 0 || ev.nd > 0 || timeout == 0 {
			if st.queued.Load() { // re-arms made while reaping
				st.submit()
			}
			st.mu.Unlock()
			ev.n = n
			return nil
		}
		toSubmit := st.ring.FlushSq()
		st.queued.Store(false)
		st.enterWait(h)
		st.mu.Unlock()
		var errno syscall.Errno
		if timeout < 0 {
			_, errno = rawsys.IoUringEnterTimeout(s.ref.fd, toSubmit, 1, rawsys.IORING_ENTER_GETEVENTS, nil)
		} else {
			ts := rawsys.Timespec{Sec: int64(timeout / time.Second), Nsec: int64(timeout % time.Second)}
			_, errno = rawsys.IoUringEnterTimeout(s.ref.fd, toSubmit, 1, rawsys.IORING_ENTER_GETEVENTS, &ts)
		}
		st.mu.Lock()
		st.leaveWait(h)
		switch errno {
		case 0, syscall.EINTR, syscall.ETIME, syscall.EBUSY:
			// EBUSY: the overflow list kept the submission back; the loop
			// flushes it. ETIME: the timeout; a last reap below.
		default:
			st.mu.Unlock()
			ev.n = 0
			return opError("select", s.ref.fd, errno)
		}
		if timeout > 0 {
			if timeout = time.Duration(deadline - nanotime()); timeout <= 0 {
				timeout = 0 // one last look, without waiting
			}
		}
	}
}

// reap moves ready completions into ev, up to its capacity, and consumes
// them. Caller holds mu.
func (st *uringState) reap(ev *Events) int { return st.reapMore(ev, 0) }

func (st *uringState) reapMore(ev *Events, out int) int {
	ring := st.ring
	ready := ring.CqReady()
	var used uint32
	for used < ready && out < len(ev.buf) {
		cqe := ring.CqeAt(used)
		ud := cqe.UserData
		if ud&udInternal != 0 {
			if !st.internalDone(ev, cqe) {
				break // ev has no room for this completion: the next Select
			}
			used++
			continue
		}
		used++
		slot := uint32(ud & udSlotMask)
		if int(slot) >= len(st.regs) {
			continue
		}
		r := &st.regs[slot]
		if !r.live || regUserData(slot, r.gen) != ud {
			continue // a registration since removed or changed
		}
		if !cqe.More() {
			r.armed = false
			if cqe.Res >= 0 || cqe.Res == -int32(syscall.ECANCELED) {
				// The kernel ended the multishot poll without being asked:
				// its completion overflowed the CQ ring (io_poll_check_events
				// in io_uring/poll.c ends it then), or the thread that
				// submitted it exited (-ECANCELED). Arm it again; readiness
				// it missed is reported by the new poll's first check.
				st.arm(slot)
			}
			// Any other error ends it for good: reported as an error
			// event below, re-armed by Reregister.
		}
		if cqe.Res <= 0 {
			if cqe.Res < 0 && cqe.Res != -int32(syscall.ECANCELED) {
				ev.buf[out].Set(rawsys.EPOLLERR, uint64(r.token))
				out++
			}
			continue
		}
		// A poll mask: the values of POLLIN, POLLOUT, ... are those of
		// EPOLLIN, EPOLLOUT, ..., so the record is an epoll_event and the
		// Event accessors are epoll's. The mask is the wake-up's, not the
		// whole state (io_poll_wake in io_uring/poll.c keeps the key): a
		// writable wake-up after the peer's FIN says POLLOUT alone, where
		// epoll says EPOLLOUT|EPOLLIN|EPOLLRDHUP. A hang-up is for good, so
		// once seen it goes with every later event, as on epoll: a loop
		// that stopped reading for a blocked write and resumes on the
		// writable event learns there that it must read on to EOF.
		mask := uint32(cqe.Res)
		if h := mask & (rawsys.POLLRDHUP | rawsys.POLLHUP); h != 0 {
			r.hup |= h
		}
		if r.hup != 0 {
			mask |= r.hup | r.events&rawsys.POLLIN
		}
		ev.buf[out].Set(mask, uint64(r.token))
		out++
	}
	if used > 0 {
		ring.CqAdvance(used)
	}
	return out
}

// internalDone handles the completion of an internal request, and
// reports false when it is one for the caller that ev has no room for.
// Caller holds mu.
func (st *uringState) internalDone(ev *Events, cqe *rawsys.IoUringCqe) bool {
	ud, res := cqe.UserData, cqe.Res
	slot := uint32(ud & udSlotMask)
	gen32 := ud >> udSlotBits & (1<<32 - 1)
	switch ud >> udKindShift & 0x7f {
	case kindWake:
		if st.wakes--; st.zombies > st.wakes {
			// A Select of a closed handle has not had its wake-up yet:
			// this one was taken by another's Select (see wakeBlocked).
			st.queueWake()
			st.submit()
		}
	case kindKick:
		var buf [8]byte
		rawsys.Read(st.kickFd, buf[:]) // reset the counter; each write is a new edge anyway
		if !cqe.More() {
			st.armKick() // ended by the kernel (the submitter's exit, a full CQ ring)
		}
	case kindUpdate:
		// The update carries the old generation: the registration it
		// changed is now at the next one, unless changed again since.
		oldUD := regOf(ud)
		cur := int(slot) < len(st.regs) && st.regs[slot].live && st.regs[slot].gen == nextGen(gen32)
		switch res {
		case -int32(syscall.EALREADY):
			// The poll was busy and was not updated (io_poll_disarm): it
			// still runs under the old user data (its completions are
			// dropped as stale) and holds the file. End it, and arm the
			// registration anew.
			st.cancelPoll(oldUD)
			fallthrough
		case -int32(syscall.ENOENT):
			// ENOENT: it had ended before the update reached it (its last
			// completion was not reaped yet).
			if cur {
				st.regs[slot].armed = false
				st.arm(slot)
			}
		}
	case kindRemove:
		if res == -int32(syscall.EALREADY) {
			st.cancelPoll(regOf(ud)) // not ended yet: again
		}
	case kindSend:
		if int(slot) >= len(st.sends) || st.sends[slot].gen&(1<<32-1) != gen32 {
			return true
		}
		c := ev.completion()
		if c == nil {
			return false
		}
		sd := &st.sends[slot]
		*c = Completion{Token: sd.token, Op: OpSend, Res: int(res), Buf: sd.buf}
		sd.buf = nil // the caller's again
		delete(st.sendByFd, sd.fd)
		sd.gen = nextGen(sd.gen)
		st.sendFree = append(st.sendFree, slot)
	case kindRecv:
		return st.recvDone(ev, cqe, slot, gen32)
	}
	return true
}

// recvDone turns a receive's completion into a Completion. Caller holds
// mu.
func (st *uringState) recvDone(ev *Events, cqe *rawsys.IoUringCqe, slot uint32, gen32 uint64) bool {
	res := cqe.Res
	live := int(slot) < len(st.recvs) && st.recvs[slot].live && st.recvs[slot].gen&(1<<32-1) == gen32
	bid, hasBuf := cqe.BufferID()
	if !live {
		if hasBuf && st.bufs != nil { // a stale chunk: its buffer goes back at once
			st.bufs.Recycle(bid)
			st.publish()
		}
		return true
	}
	r := &st.recvs[slot]
	more := cqe.More()
	var rearm, ended bool
	switch {
	case r.stopping:
		ended = !more // StopRecv's cancel, end of file or an error ended it
		if res == -int32(syscall.ENOBUFS) {
			res = -int32(syscall.ECANCELED) // out of buffers while stopping: stopped all the same
		}
	case res == -int32(syscall.ENOBUFS):
		// Out of buffers: they come back when the caller's Events give
		// them back (the next Select or Clear). Armed again at once only
		// if some were published since this receive was armed; otherwise
		// by that publish. Armed at once every time, an Events holding
		// every buffer made a Select spin on ENOBUFS for its whole timeout.
		if r.armPub != st.pubGen {
			rearm = true
		} else {
			r.starved = true
			st.starved = append(st.starved, slot)
		}
	case res == -int32(syscall.ECANCELED) || res > 0 && !more:
		// The submitting thread's exit (-ECANCELED), or a multishot the
		// kernel ended with data (a full CQ ring): the receive goes on,
		// armed again.
		rearm = true
	case res <= 0:
		ended = true // end of file, or an error
	}
	if res > 0 || ended { // a completion for the caller
		c := ev.completion()
		if c == nil {
			return false // no room: the completion stays in the ring, nothing done
		}
		*c = Completion{Token: r.token, Op: OpRecv, Res: int(res), More: !ended}
		if hasBuf {
			c.Buf = st.bufs.Buf(bid)[:max(res, 0)]
			ev.lent.lend(st, bid)
		}
	}
	if rearm {
		st.armRecv(slot)
	}
	if ended {
		r.live, r.stopping = false, false
		r.gen = nextGen(r.gen)
		delete(st.recvByFd, r.fd)
		st.recvFree = append(st.recvFree, slot)
	}
	return true
}

// completion returns the next free Completion of ev, or nil when full.
func (e *Events) completion() *Completion {
	if e.done == nil {
		e.done = make([]Completion, len(e.buf)) // once per Events
	}
	if e.nd == len(e.done) {
		return nil
	}
	e.nd++
	return &e.done[e.nd-1]
}

// bufLoans are the ring buffers an Events has lent out with its
// completions.
type bufLoans struct {
	st   *uringState
	bids []uint16
}

func (l *bufLoans) lend(st *uringState, bid uint16) {
	if l.st != st && len(l.bids) > 0 {
		l.giveBack() // an Events used with another Selector: settle the old loans first
	}
	l.st = st
	l.bids = append(l.bids, bid)
	st.lentOut++
}

// giveBack returns the lent buffers to the ring.
func (l *bufLoans) giveBack() {
	if len(l.bids) == 0 {
		return
	}
	st := l.st
	st.mu.Lock()
	st.giveBackLocked(l)
	st.mu.Unlock()
}

func (st *uringState) giveBackLocked(l *bufLoans) {
	st.lentOut -= len(l.bids)
	switch {
	case st.ring != nil && st.bufs != nil:
		for _, bid := range l.bids {
			st.bufs.Recycle(bid)
		}
		st.publish()
	case st.ring == nil && st.bufs != nil && st.lentOut == 0:
		// The last loan of a closed ring: its buffers may go now.
		st.bufs.Close()
		st.bufs = nil
	}
	l.bids = l.bids[:0]
}

// publish hands the recycled buffers to the kernel and arms the receives
// that ran out of them (a Select blocked meanwhile is kicked, so that it
// submits them). Caller holds mu.
func (st *uringState) publish() {
	st.bufs.Publish()
	st.pubGen++
	armed := false
	for _, slot := range st.starved {
		if r := &st.recvs[slot]; r.live && r.starved {
			st.armRecv(slot)
			armed = true
		}
	}
	st.starved = st.starved[:0]
	if armed {
		st.kick()
	}
}

// uringUsable probes io_uring once per process: nil when it can serve as a
// readiness backend, or the refusal.
func uringUsable() error {
	uringProbeOnce.Do(func() { uringProbeErr = uringProber.Probe() })
	return uringProbeErr
}

var (
	uringProber    = &rawsys.IoUringProber{Flags: rawsys.IORING_SETUP_CLAMP}
	uringProbeOnce sync.Once
	uringProbeErr  error
)

// IoUringUnavailable reports why New does not use io_uring when asked to
// (WithBackend("io_uring") or RAWPOLL_BACKEND=io_uring): nil when it can,
// else the refusal (ENOSYS, EPERM from a seccomp filter,
// kernel.io_uring_disabled, no multishot poll, ...), as a
// *rawsys.IoUringRefusal. It probes once per process.
func IoUringUnavailable() error { return uringUsable() }

// backendFor is the backend the options name, else env's.
// backendFromEnv is RAWPOLL_BACKEND: "io_uring" or "epoll" for the whole
// process, so that existing programs and test suites run on either
// unchanged.
func backendFromEnv() string { return os.Getenv("RAWPOLL_BACKEND") }
