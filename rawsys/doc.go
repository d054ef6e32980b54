// Package rawsys issues the kernel entry points an event loop needs
// (epoll, eventfd, ppoll, read, write, ioctl on Linux) through hand-written
// assembly stubs, one Go function per entry point, with no policy and no
// allocation.
//
// Every call returns its result and a syscall.Errno (0 on success) instead
// of an error interface, so nothing escapes to the heap.
//
// Two entry paths exist for calls that can block:
//
//   - the Raw form (EpollPwaitRaw, EpollPwait2Raw, PpollRaw, and Read and
//     Write, which are only for O_NONBLOCK descriptors) enters the kernel
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
