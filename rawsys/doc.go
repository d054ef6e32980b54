// Package rawsys issues the kernel entry points an event loop needs
// (epoll, eventfd, ppoll, read, write, ioctl on Linux) through hand-written
// assembly stubs, one Go function per entry point, with no policy and no
// allocation.
//
// The socket calls a server makes per connection and per message (accept4,
// connect, readv, writev, recvfrom, sendto, recvmsg, sendmsg, recvmmsg,
// sendmmsg, shutdown, close, getsockopt, setsockopt, getsockname,
// getpeername) are raw stubs on linux/amd64 and linux/arm64 too
// (sock_linux.go), with views of iovec, msghdr, mmsghdr and the sockaddrs
// in the kernel's layout. On darwin and the BSDs the same Go functions go
// through libc (darwin, OpenBSD) or direct system calls (FreeBSD, NetBSD,
// DragonFly); where an OS lacks a call, the function is built from others
// and says so (sock_bsd.go). They are raw everywhere, so for non-blocking
// descriptors only.
//
// Every call returns its result and a syscall.Errno (0 on success) instead
// of an error interface, so nothing escapes to the heap.
//
// Two entry paths exist for calls that can block:
//
//   - the Raw form (EpollPwaitRaw, EpollPwait2Raw, PpollRaw, and Read,
//     Write and the socket calls, which are only for O_NONBLOCK
//     descriptors) enters the kernel
//     directly and never tells the Go scheduler. It is the cheapest way in,
//     and it is correct only when the call cannot block: a zero timeout, or
//     a non-blocking descriptor. A raw call that blocks stalls its P and
//     every goroutine queued on it.
//   - the plain form (EpollPwait, EpollPwait2, Ppoll) brackets the same stub
//     with runtime.entersyscall and runtime.exitsyscall, so sysmon can hand
//     the P to another thread while the kernel sleeps.
//
// Calls that cannot block at all (EpollCreate1, EpollCtl, Eventfd2, Ioctl)
// exist only in the raw form.
//
// Event records are read in place: EpollEvent has exactly the kernel's
// layout for each architecture (12 bytes packed on amd64, 16 on arm64), so
// a buffer filled by epoll_pwait is decoded without copying.
//
// io_uring (Linux) follows the same rules: IoUringSetup and
// IoUringRegister cannot block; IoUringEnterRaw is for submitting and for
// GETEVENTS with minComplete 0, IoUringEnter and IoUringEnterTimeout for
// an enter that waits. IoUring maps the rings and reads and writes them in
// place (IoUringSqe, IoUringCqe) with the orderings the kernel documents,
// so a completion already in the ring costs no system call. ProbeIoUring
// says whether io_uring is usable here and, if not, why (IoUringRefusal).
package rawsys
