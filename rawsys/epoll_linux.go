//go:build amd64 || arm64

package rawsys

import (
	"syscall"
	"unsafe"
)

// Flags and requests used with the calls in this package. The values are
// the kernel's (include/uapi/linux/eventpoll.h, eventfd.h, poll.h); they are
// repeated here so that the hot path needs no other package.
const (
	EPOLL_CLOEXEC = 0x80000

	EPOLL_CTL_ADD = 1
	EPOLL_CTL_DEL = 2
	EPOLL_CTL_MOD = 3

	EPOLLIN        = 0x1
	EPOLLPRI       = 0x2
	EPOLLOUT       = 0x4
	EPOLLERR       = 0x8
	EPOLLHUP       = 0x10
	EPOLLRDNORM    = 0x40
	EPOLLRDBAND    = 0x80
	EPOLLWRNORM    = 0x100
	EPOLLWRBAND    = 0x200
	EPOLLMSG       = 0x400
	EPOLLRDHUP     = 0x2000
	EPOLLEXCLUSIVE = 1 << 28
	EPOLLWAKEUP    = 1 << 29
	EPOLLONESHOT   = 1 << 30
	EPOLLET        = 1 << 31

	EFD_NONBLOCK = 0x800
	EFD_CLOEXEC  = 0x80000

	POLLIN    = 0x1
	POLLPRI   = 0x2
	POLLOUT   = 0x4
	POLLERR   = 0x8
	POLLHUP   = 0x10
	POLLNVAL  = 0x20
	POLLRDHUP = 0x2000

	// EPIOCSPARAMS and EPIOCGPARAMS set and get the epoll busy-poll
	// parameters (struct epoll_params, Linux 6.9+).
	EPIOCSPARAMS = 0x40088a01
	EPIOCGPARAMS = 0x80088a02

	// MaxEpollEvents is the largest maxevents epoll_pwait accepts
	// (EP_MAX_EVENTS in fs/eventpoll.c: INT_MAX / sizeof(struct epoll_event)).
	MaxEpollEvents = 0x7fffffff / SizeofEpollEvent
)

// PollFd is struct pollfd, read and written in place by ppoll.
type PollFd struct {
	Fd      int32
	Events  int16
	Revents int16
}

// EpollParams is struct epoll_params for EPIOCSPARAMS/EPIOCGPARAMS.
type EpollParams struct {
	BusyPollUsecs  uint32
	BusyPollBudget uint16
	PreferBusyPoll uint8
	_              uint8 // __pad: must be zero
}

// These are the runtime's own syscall brackets, the ones package syscall
// uses; runtime/proc.go marks both with a push linkname so that code outside
// the standard library may call them (go.dev/issue/67401).
//
//go:linkname entersyscall runtime.entersyscall
func entersyscall()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// The raw stubs, implemented in epoll_linux_$GOARCH.s. None of them touches
// the scheduler: each is a single SYSCALL/SVC on the goroutine's stack, so
// the caller keeps its P for the whole call. They are safe as long as the
// call cannot block; see the package comment.

// EpollCreate1 is epoll_create1(2). It cannot block.
func EpollCreate1(flags int) (fd int, errno syscall.Errno)

// EpollCtl is epoll_ctl(2). It cannot block. event may be nil for
// EPOLL_CTL_DEL.
//
//go:noescape
func EpollCtl(epfd int, op int, fd int, event *EpollEvent) (errno syscall.Errno)

// EpollPwaitRaw is epoll_pwait(2) with a nil signal mask, without telling
// the scheduler. Use it only with msec == 0, where the kernel never sleeps.
//
//go:noescape
func EpollPwaitRaw(epfd int, events *EpollEvent, maxevents int, msec int) (n int, errno syscall.Errno)

// EpollPwait2Raw is epoll_pwait2(2) (Linux 5.11+) with a nil signal mask,
// without telling the scheduler. Use it only with a zero timeout.
//
//go:noescape
func EpollPwait2Raw(epfd int, events *EpollEvent, maxevents int, timeout *Timespec) (n int, errno syscall.Errno)

// Eventfd2 is eventfd2(2). It cannot block.
func Eventfd2(initval uint, flags int) (fd int, errno syscall.Errno)

// PpollRaw is ppoll(2) with a nil signal mask, without telling the
// scheduler. Use it only with a zero timeout. timeout == nil blocks forever,
// so it must never be nil here.
//
//go:noescape
func PpollRaw(fds *PollFd, nfds int, timeout *Timespec) (n int, errno syscall.Errno)

// Read is read(2) for a descriptor in O_NONBLOCK mode, where it cannot
// block: it does not tell the scheduler, so on a blocking descriptor it
// would stall the P. On error n is -1 (as the kernel returns it) and errno
// says why; n == 0 with errno 0 is end of file.
//
//go:noescape
func Read(fd int, p []byte) (n int, errno syscall.Errno)

// Write is write(2) for a descriptor in O_NONBLOCK mode; see Read. On
// error n is -1 and errno says why (EAGAIN: the descriptor is full); n may
// be less than len(p): a partial write.
//
//go:noescape
func Write(fd int, p []byte) (n int, errno syscall.Errno)

// Ioctl is ioctl(2) with a pointer argument, for requests that cannot block
// (EPIOCSPARAMS, EPIOCGPARAMS, FIONREAD).
//
//go:noescape
func Ioctl(fd int, req uint, arg unsafe.Pointer) (r int, errno syscall.Errno)

// The blocking forms. Each is nosplit because the stack must not grow
// between entersyscall and exitsyscall (the runtime has recorded this
// frame's SP for the GC and for stack scanning), and norace because race
// instrumentation would call into the race runtime in that window. Pointer
// arguments stay live across the call: they are arguments of this frame,
// whose stack map the GC reads while the goroutine is in the syscall, and
// a goroutine's stack is never moved while it is in a syscall.

// EpollPwait is epoll_pwait(2) with a nil signal mask, telling the
// scheduler that the thread may sleep in the kernel (msec < 0 blocks
// until an event arrives).
//
//go:nosplit
//go:norace
func EpollPwait(epfd int, events *EpollEvent, maxevents int, msec int) (int, syscall.Errno) {
	entersyscall()
	n, errno := EpollPwaitRaw(epfd, events, maxevents, msec)
	exitsyscall()
	return n, errno
}

// EpollPwait2 is epoll_pwait2(2) with a nil signal mask, telling the
// scheduler. A nil timeout blocks until an event arrives.
//
//go:nosplit
//go:norace
func EpollPwait2(epfd int, events *EpollEvent, maxevents int, timeout *Timespec) (int, syscall.Errno) {
	entersyscall()
	n, errno := EpollPwait2Raw(epfd, events, maxevents, timeout)
	exitsyscall()
	return n, errno
}

// Ppoll is ppoll(2) with a nil signal mask, telling the scheduler. A nil
// timeout blocks until an event arrives.
//
//go:nosplit
//go:norace
func Ppoll(fds *PollFd, nfds int, timeout *Timespec) (int, syscall.Errno) {
	entersyscall()
	n, errno := PpollRaw(fds, nfds, timeout)
	exitsyscall()
	return n, errno
}
