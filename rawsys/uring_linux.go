//go:build amd64 || arm64

package rawsys

import (
	"runtime"
	"syscall"
	"unsafe"
)

// io_uring constants. The values are the kernel's, from
// include/uapi/linux/io_uring.h (Linux 6.18, the kernel this package is
// developed on); each is fixed ABI from the release noted beside it.
// TestIoUringConstants checks them against the numbers in that header and,
// for the enums, against the running kernel's own BTF.
const (
	// io_uring_setup flags (struct io_uring_params.flags).
	IORING_SETUP_IOPOLL             = 1 << 0
	IORING_SETUP_SQPOLL             = 1 << 1
	IORING_SETUP_SQ_AFF             = 1 << 2
	IORING_SETUP_CQSIZE             = 1 << 3  // 5.5: cq_entries is an input
	IORING_SETUP_CLAMP              = 1 << 4  // 5.6: clamp sizes instead of EINVAL
	IORING_SETUP_ATTACH_WQ          = 1 << 5  // 5.6
	IORING_SETUP_R_DISABLED         = 1 << 6  // 5.10
	IORING_SETUP_SUBMIT_ALL         = 1 << 7  // 5.18: keep submitting after a failed SQE
	IORING_SETUP_COOP_TASKRUN       = 1 << 8  // 5.19: no IPI to run completion task work
	IORING_SETUP_TASKRUN_FLAG       = 1 << 9  // 5.19: IORING_SQ_TASKRUN when task work waits
	IORING_SETUP_SQE128             = 1 << 10 // 5.19
	IORING_SETUP_CQE32              = 1 << 11 // 5.19
	IORING_SETUP_SINGLE_ISSUER      = 1 << 12 // 6.0: one task submits
	IORING_SETUP_DEFER_TASKRUN      = 1 << 13 // 6.1: task work runs only in io_uring_enter
	IORING_SETUP_NO_MMAP            = 1 << 14 // 6.5
	IORING_SETUP_REGISTERED_FD_ONLY = 1 << 15 // 6.5
	IORING_SETUP_NO_SQARRAY         = 1 << 16 // 6.6: SQ head/tail index the SQEs directly

	// Opcodes (enum io_uring_op; struct io_uring_sqe.opcode).
	IORING_OP_NOP             = 0
	IORING_OP_READV           = 1
	IORING_OP_WRITEV          = 2
	IORING_OP_POLL_ADD        = 6 // 5.1; multishot with IORING_POLL_ADD_MULTI from 5.13
	IORING_OP_POLL_REMOVE     = 7 // 5.1; in-place update with IORING_POLL_UPDATE_* from 5.13
	IORING_OP_SENDMSG         = 9
	IORING_OP_RECVMSG         = 10
	IORING_OP_TIMEOUT         = 11
	IORING_OP_TIMEOUT_REMOVE  = 12
	IORING_OP_ACCEPT          = 13
	IORING_OP_ASYNC_CANCEL    = 14
	IORING_OP_LINK_TIMEOUT    = 15
	IORING_OP_CONNECT         = 16
	IORING_OP_CLOSE           = 19
	IORING_OP_READ            = 22
	IORING_OP_WRITE           = 23
	IORING_OP_SEND            = 26 // 5.6
	IORING_OP_RECV            = 27 // 5.6
	IORING_OP_PROVIDE_BUFFERS = 31
	IORING_OP_REMOVE_BUFFERS  = 32
	IORING_OP_SHUTDOWN        = 34
	IORING_OP_MSG_RING        = 40
	IORING_OP_SOCKET          = 45
	IORING_OP_SEND_ZC         = 47
	IORING_OP_SENDMSG_ZC      = 48
	IORING_OP_READ_MULTISHOT  = 49
	IORING_OP_BIND            = 56
	IORING_OP_LISTEN          = 57

	// struct io_uring_sqe.flags.
	IOSQE_FIXED_FILE       = 1 << 0
	IOSQE_IO_DRAIN         = 1 << 1
	IOSQE_IO_LINK          = 1 << 2
	IOSQE_IO_HARDLINK      = 1 << 3
	IOSQE_ASYNC            = 1 << 4
	IOSQE_BUFFER_SELECT    = 1 << 5 // pick a buffer from sqe.buf_group
	IOSQE_CQE_SKIP_SUCCESS = 1 << 6

	// IORING_OP_POLL_ADD / POLL_REMOVE command flags, carried in sqe.len
	// (sqe.poll32_events holds the poll mask).
	IORING_POLL_ADD_MULTI        = 1 << 0 // 5.13: multishot, CQEs carry IORING_CQE_F_MORE
	IORING_POLL_UPDATE_EVENTS    = 1 << 1 // 5.13: POLL_REMOVE updates the mask in place
	IORING_POLL_UPDATE_USER_DATA = 1 << 2 // 5.13: POLL_REMOVE updates user_data in place
	IORING_POLL_ADD_LEVEL        = 1 << 3 // 6.0: level-triggered

	// IORING_OP_ASYNC_CANCEL flags (sqe.cancel_flags).
	IORING_ASYNC_CANCEL_ALL      = 1 << 0
	IORING_ASYNC_CANCEL_FD       = 1 << 1
	IORING_ASYNC_CANCEL_ANY      = 1 << 2
	IORING_ASYNC_CANCEL_FD_FIXED = 1 << 3
	IORING_ASYNC_CANCEL_USERDATA = 1 << 4
	IORING_ASYNC_CANCEL_OP       = 1 << 5

	// send/recv flags, carried in sqe.ioprio.
	IORING_RECVSEND_POLL_FIRST = 1 << 0
	IORING_RECV_MULTISHOT      = 1 << 1
	IORING_RECVSEND_FIXED_BUF  = 1 << 2
	IORING_RECVSEND_BUNDLE     = 1 << 4

	// struct io_uring_cqe.flags.
	IORING_CQE_F_BUFFER        = 1 << 0 // the upper 16 bits are a provided buffer's ID
	IORING_CQE_F_MORE          = 1 << 1 // the request stays armed and will post again
	IORING_CQE_F_SOCK_NONEMPTY = 1 << 2
	IORING_CQE_F_NOTIF         = 1 << 3
	IORING_CQE_F_BUF_MORE      = 1 << 4
	IORING_CQE_BUFFER_SHIFT    = 16

	// mmap(2) offsets on the ring descriptor.
	IORING_OFF_SQ_RING    = 0
	IORING_OFF_CQ_RING    = 0x8000000
	IORING_OFF_SQES       = 0x10000000
	IORING_OFF_PBUF_RING  = 0x80000000
	IORING_OFF_PBUF_SHIFT = 16

	// The SQ ring's flags word, written by the kernel.
	IORING_SQ_NEED_WAKEUP = 1 << 0 // SQPOLL thread sleeps
	IORING_SQ_CQ_OVERFLOW = 1 << 1 // completions wait in the overflow list
	IORING_SQ_TASKRUN     = 1 << 2 // completion task work waits for an enter

	// The CQ ring's flags word, written by the application.
	IORING_CQ_EVENTFD_DISABLED = 1 << 0

	// io_uring_enter(2) flags.
	IORING_ENTER_GETEVENTS       = 1 << 0
	IORING_ENTER_SQ_WAKEUP       = 1 << 1
	IORING_ENTER_SQ_WAIT         = 1 << 2
	IORING_ENTER_EXT_ARG         = 1 << 3 // 5.11: arg is struct io_uring_getevents_arg
	IORING_ENTER_REGISTERED_RING = 1 << 4
	IORING_ENTER_ABS_TIMER       = 1 << 5 // 6.12

	// struct io_uring_params.features.
	IORING_FEAT_SINGLE_MMAP     = 1 << 0 // 5.4: SQ and CQ rings share one mapping
	IORING_FEAT_NODROP          = 1 << 1 // 5.5: a full CQ overflows to a list, nothing lost
	IORING_FEAT_SUBMIT_STABLE   = 1 << 2
	IORING_FEAT_RW_CUR_POS      = 1 << 3
	IORING_FEAT_CUR_PERSONALITY = 1 << 4
	IORING_FEAT_FAST_POLL       = 1 << 5
	IORING_FEAT_POLL_32BITS     = 1 << 6 // 5.9: poll32_events
	IORING_FEAT_SQPOLL_NONFIXED = 1 << 7
	IORING_FEAT_EXT_ARG         = 1 << 8 // 5.11: IORING_ENTER_EXT_ARG
	IORING_FEAT_NATIVE_WORKERS  = 1 << 9
	IORING_FEAT_RSRC_TAGS       = 1 << 10
	IORING_FEAT_CQE_SKIP        = 1 << 11
	IORING_FEAT_LINKED_FILE     = 1 << 12
	IORING_FEAT_REG_REG_RING    = 1 << 13
	IORING_FEAT_RECVSEND_BUNDLE = 1 << 14
	IORING_FEAT_MIN_TIMEOUT     = 1 << 15

	// io_uring_register(2) opcodes (enum io_uring_register_op).
	IORING_REGISTER_BUFFERS             = 0
	IORING_UNREGISTER_BUFFERS           = 1
	IORING_REGISTER_FILES               = 2
	IORING_UNREGISTER_FILES             = 3
	IORING_REGISTER_EVENTFD             = 4
	IORING_UNREGISTER_EVENTFD           = 5
	IORING_REGISTER_PROBE               = 8 // 5.6
	IORING_REGISTER_ENABLE_RINGS        = 12
	IORING_REGISTER_RING_FDS            = 20
	IORING_UNREGISTER_RING_FDS          = 21
	IORING_REGISTER_PBUF_RING           = 22 // 5.19
	IORING_UNREGISTER_PBUF_RING         = 23
	IORING_REGISTER_SYNC_CANCEL         = 24
	IORING_REGISTER_PBUF_STATUS         = 26
	IORING_REGISTER_NAPI                = 27
	IORING_UNREGISTER_NAPI              = 28
	IORING_REGISTER_RESIZE_RINGS        = 33
	IORING_REGISTER_USE_REGISTERED_RING = 1 << 31

	// IORING_REGISTER_PBUF_RING flags (struct io_uring_buf_reg.flags).
	IOU_PBUF_RING_MMAP = 1 // the kernel allocates the ring
	IOU_PBUF_RING_INC  = 2 // 6.12: buffers consumed incrementally

	// struct io_uring_probe_op.flags.
	IO_URING_OP_SUPPORTED = 1 << 0

	// The largest sq_entries io_uring_setup accepts, and cq_entries with
	// IORING_SETUP_CQSIZE (io_uring/io_uring.h, not uapi).
	IORING_MAX_ENTRIES    = 32768
	IORING_MAX_CQ_ENTRIES = 2 * IORING_MAX_ENTRIES
)

// The sizes of the kernel structures, checked by TestIoUringLayout.
const (
	SizeofIoUringSqe          = 64
	SizeofIoUringCqe          = 16
	SizeofIoUringParams       = 120
	SizeofIoUringGeteventsArg = 24
	SizeofIoUringProbeOp      = 8
	SizeofIoUringProbe        = 16 + ioUringProbeOps*SizeofIoUringProbeOp
	SizeofIoUringBuf          = 16
	SizeofIoUringBufReg       = 40

	ioUringProbeOps = 256 // room for every 8-bit opcode
)

// IoSqringOffsets is struct io_sqring_offsets: where each field of the SQ
// ring lies in the mapping at IORING_OFF_SQ_RING, filled by io_uring_setup.
type IoSqringOffsets struct {
	Head        uint32
	Tail        uint32
	RingMask    uint32
	RingEntries uint32
	Flags       uint32
	Dropped     uint32
	Array       uint32 // 0 with IORING_SETUP_NO_SQARRAY
	Resv1       uint32
	UserAddr    uint64 // IORING_SETUP_NO_MMAP only
}

// IoCqringOffsets is struct io_cqring_offsets: where each field of the CQ
// ring lies in its mapping.
type IoCqringOffsets struct {
	Head        uint32
	Tail        uint32
	RingMask    uint32
	RingEntries uint32
	Overflow    uint32
	Cqes        uint32
	Flags       uint32
	Resv1       uint32
	UserAddr    uint64
}

// IoUringParams is struct io_uring_params, passed to io_uring_setup and
// filled by it. Flags, SqThreadCpu, SqThreadIdle, WqFd and, with
// IORING_SETUP_CQSIZE, CqEntries are inputs; every other field must be zero
// on input (the kernel refuses non-zero Resv with EINVAL).
type IoUringParams struct {
	SqEntries    uint32
	CqEntries    uint32
	Flags        uint32
	SqThreadCpu  uint32
	SqThreadIdle uint32
	Features     uint32
	WqFd         uint32
	Resv         [3]uint32
	SqOff        IoSqringOffsets
	CqOff        IoCqringOffsets
}

// IoUringSqe is struct io_uring_sqe, 64 bytes, written in place in the
// mapped SQE array. The kernel's unions are single fields here, named after
// their first member; the other members are the same bytes:
//
//	Off       off, addr2 (POLL_REMOVE: the new user_data), cmd_op
//	Addr      addr, splice_off_in (POLL_REMOVE, ASYNC_CANCEL: the target's user_data)
//	OpFlags   rw_flags, poll32_events (poll_events is its low half on
//	          little-endian), msg_flags, timeout_flags, accept_flags,
//	          cancel_flags, nop_flags, ...
//	BufIndex  buf_index, buf_group
//	FileIndex splice_fd_in, file_index, optlen, addr_len (low half)
//	Addr3     addr3, attr_ptr, optval
//
// Both supported architectures are little-endian, where poll32_events needs
// no word swap (the kernel swaps it on big-endian only, io_poll_parse_events
// in io_uring/poll.c).
type IoUringSqe struct {
	Opcode      uint8
	Flags       uint8
	Ioprio      uint16
	Fd          int32
	Off         uint64
	Addr        uint64
	Len         uint32
	OpFlags     uint32
	UserData    uint64
	BufIndex    uint16
	Personality uint16
	FileIndex   uint32
	Addr3       uint64
	_           uint64 // __pad2; with IORING_SETUP_SQE128, cmd runs on
}

// IoUringCqe is struct io_uring_cqe, 16 bytes, read in place in the mapped
// CQ ring.
type IoUringCqe struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// More reports IORING_CQE_F_MORE: the request that posted this completion
// is still armed (a multishot poll or receive). A multishot completion
// without it is that request's last.
func (c *IoUringCqe) More() bool { return c.Flags&IORING_CQE_F_MORE != 0 }

// BufferID returns the provided buffer's ID and true when the completion
// carries IORING_CQE_F_BUFFER.
func (c *IoUringCqe) BufferID() (uint16, bool) {
	return uint16(c.Flags >> IORING_CQE_BUFFER_SHIFT), c.Flags&IORING_CQE_F_BUFFER != 0
}

// IoUringGeteventsArg is struct io_uring_getevents_arg, the argument of
// io_uring_enter with IORING_ENTER_EXT_ARG (argsz
// SizeofIoUringGeteventsArg). Ts is the address of a Timespec (struct
// __kernel_timespec) or 0 for no timeout; Sigmask is the address of a signal
// mask or 0 to keep the thread's. The kernel reads both during the call, so
// the memory they name must stay reachable and must not move between filling
// the argument and the call (a goroutine stack can move): keep it in the
// heap, or use IoUringEnterTimeout, which fills the argument on its own
// frame.
type IoUringGeteventsArg struct {
	Sigmask     uint64
	SigmaskSz   uint32
	MinWaitUsec uint32 // 6.12; __u32 pad, which had to be zero, before
	Ts          uint64
}

// IoUringProbeOp is struct io_uring_probe_op.
type IoUringProbeOp struct {
	Op    uint8
	_     uint8
	Flags uint16 // IO_URING_OP_SUPPORTED
	_     uint32
}

// IoUringProbe is struct io_uring_probe followed by room for 256 ops, the
// most an 8-bit opcode can name, for io_uring_register(IORING_REGISTER_PROBE,
// &p, 256). The kernel refuses a probe that is not zero (EINVAL), so use a
// fresh one for each call.
type IoUringProbe struct {
	LastOp uint8 // the highest opcode the kernel knows
	OpsLen uint8 // how many entries of Ops it filled
	_      uint16
	_      [3]uint32
	Ops    [ioUringProbeOps]IoUringProbeOp
}

// Supported reports whether the kernel that filled p supports opcode op.
func (p *IoUringProbe) Supported(op uint8) bool {
	return op <= p.LastOp && int(op) < int(p.OpsLen) && p.Ops[op].Flags&IO_URING_OP_SUPPORTED != 0
}

// IoUringBuf is struct io_uring_buf, one entry of a provided-buffer ring.
// In entry 0, the bytes of Resv are the ring's tail (struct
// io_uring_buf_ring overlays them), so Resv is not exported.
type IoUringBuf struct {
	Addr uint64
	Len  uint32
	Bid  uint16
	_    uint16
}

// IoUringBufReg is struct io_uring_buf_reg, the argument of
// IORING_REGISTER_PBUF_RING and IORING_UNREGISTER_PBUF_RING.
type IoUringBufReg struct {
	RingAddr    uint64
	RingEntries uint32
	Bgid        uint16
	Flags       uint16 // IOU_PBUF_RING_MMAP, IOU_PBUF_RING_INC
	MinLeft     uint32 // IOU_PBUF_RING_INC only; __u32 resv before
	_           [5]uint32
}

// The raw stubs, implemented in uring_linux_$GOARCH.s. Each is one
// SYSCALL/SVC on the goroutine's stack and never tells the scheduler, like
// the epoll stubs (epoll_linux.go).

// IoUringSetup is io_uring_setup(2). It cannot block: it allocates the
// rings and returns. The descriptor it returns is always close-on-exec
// (io_uring/io_uring.c installs it with O_CLOEXEC; there is no flag to ask
// otherwise). ENOSYS where the kernel or an emulator (qemu-user) has no
// io_uring; EPERM under a seccomp filter that denies it (Docker's default
// profile since 25.0, moby#46762) or under kernel.io_uring_disabled (6.6+).
//
//go:noescape
func IoUringSetup(entries uint32, params *IoUringParams) (fd int, errno syscall.Errno)

// IoUringEnterRaw is io_uring_enter(2) without telling the scheduler. arg
// and argsz are the kernel's: a signal mask and its size, or with
// IORING_ENTER_EXT_ARG an *IoUringGeteventsArg and
// SizeofIoUringGeteventsArg, or nil and 0.
//
// Use it only where the call cannot block: to submit (toSubmit > 0 without
// IORING_ENTER_GETEVENTS; submission issues each SQE non-blocking and
// punts what would block to the kernel's io-wq workers, so the caller does
// not sleep on I/O), or with IORING_ENTER_GETEVENTS and minComplete 0,
// which only flushes overflowed completions and runs pending task work. A
// raw enter that waits stalls the goroutine's P.
//
//go:noescape
func IoUringEnterRaw(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argsz uintptr) (n int, errno syscall.Errno)

// IoUringRegister is io_uring_register(2). It cannot block for an event:
// the opcodes this package uses (PROBE, PBUF_RING) fill or take a table and
// return.
//
//go:noescape
func IoUringRegister(fd int, opcode uint32, arg unsafe.Pointer, nrArgs uint32) (r int, errno syscall.Errno)

// IoUringEnter is io_uring_enter(2) telling the scheduler, for an enter
// that can wait: IORING_ENTER_GETEVENTS with minComplete > 0 sleeps until
// that many completions are ready, the timeout in an IORING_ENTER_EXT_ARG
// argument expires (ETIME), or a signal arrives (EINTR, left to the
// caller). It is nosplit and norace for the reasons given above
// EpollPwait; arg stays live across the call as an argument of this frame.
//
// When submitting and waiting in one call, the result is the number of
// SQEs consumed even if the wait then timed out; the wait's error is
// reported only when nothing was submitted (io_uring_enter(2)).
//
//go:nosplit
//go:norace
func IoUringEnter(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argsz uintptr) (int, syscall.Errno) {
	entersyscall()
	n, errno := IoUringEnterRaw(fd, toSubmit, minComplete, flags, arg, argsz)
	exitsyscall()
	return n, errno
}

// IoUringEnterTimeout is IoUringEnter with IORING_ENTER_EXT_ARG added to
// flags and a struct io_uring_getevents_arg built on its own frame around
// ts, a nanosecond timeout (nil waits without one). It is the safe way to
// pass a timeout that lives on the caller's stack: the argument holds the
// Timespec's address as an integer, which a stack move would leave stale;
// this frame is nosplit, so neither stack can move between taking the
// address and the end of the system call (a goroutine in a system call is
// never moved or shrunk). Needs IORING_FEAT_EXT_ARG (5.11); EINVAL before.
//
//go:nosplit
//go:norace
func IoUringEnterTimeout(fd int, toSubmit, minComplete, flags uint32, ts *Timespec) (int, syscall.Errno) {
	var arg IoUringGeteventsArg
	arg.Ts = uint64(uintptr(unsafe.Pointer(ts)))
	entersyscall()
	n, errno := IoUringEnterRaw(fd, toSubmit, minComplete, flags|IORING_ENTER_EXT_ARG, unsafe.Pointer(&arg), SizeofIoUringGeteventsArg)
	exitsyscall()
	runtime.KeepAlive(ts) // a heap Timespec, known to the kernel only by its address
	return n, errno
}
