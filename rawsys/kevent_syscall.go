//go:build dragonfly || ((freebsd || netbsd) && (amd64 || arm64))

package rawsys

import (
	"syscall"
	"unsafe"
)

// FreeBSD, NetBSD and DragonFly allow direct system calls; the numbers in
// kevent_$GOOS.go are the ones whose struct kevent matches Kevent_t there
// (checked against golang.org/x/sys by xsys_crosscheck_test.go).

// Kqueue is kqueue(2). It cannot block. The descriptor is not
// close-on-exec; prefer KqueueCloexec.
func Kqueue() (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(sysKqueue, 0, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}

// KqueueCloexec creates a kqueue that is close-on-exec from the start:
// kqueuex(KQUEUE_CLOEXEC) on FreeBSD 13.3/14+, kqueue1(O_CLOEXEC) on
// NetBSD. It returns ENOSYS where the OS (DragonFly) or the running kernel
// (FreeBSD before 13.3) has no such call. It cannot block.
func KqueueCloexec() (int, syscall.Errno) {
	if sysKqueueCloexec == 0 {
		return -1, syscall.ENOSYS
	}
	r, _, errno := syscall.RawSyscall(sysKqueueCloexec, kqueueCloexecArg, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}

// KeventRaw is kevent(2) without telling the scheduler. The selector uses
// it for change lists and zero timeouts: neither waits for an event, and
// the sleeps the kernel may take on the way (FreeBSD kern_event.c
// kqueue_register: knote_alloc(M_WAITOK), the "kqflxwt" wait for a knote
// another thread is processing; xnu knote_lock) are short waits on memory
// and on other threads' CPU work, not on I/O or time. The Go runtime
// makes the same choice: runtime/netpoll_kqueue.go submits its changes
// with a plain kevent call outside entersyscall.
func KeventRaw(kq int, changes *Kevent_t, nchanges int, events *Kevent_t, nevents int, timeout *Timespec) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall6(sysKevent, uintptr(kq), uintptr(unsafe.Pointer(changes)), uintptr(nchanges),
		uintptr(unsafe.Pointer(events)), uintptr(nevents), uintptr(unsafe.Pointer(timeout)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}

// Kevent is kevent(2), telling the scheduler (syscall.Syscall6 brackets it
// with entersyscall/exitsyscall): for waits with a timeout, or none (a nil
// timeout blocks), which sleep until an event or the timeout.
func Kevent(kq int, changes *Kevent_t, nchanges int, events *Kevent_t, nevents int, timeout *Timespec) (int, syscall.Errno) {
	r, _, errno := syscall.Syscall6(sysKevent, uintptr(kq), uintptr(unsafe.Pointer(changes)), uintptr(nchanges),
		uintptr(unsafe.Pointer(events)), uintptr(nevents), uintptr(unsafe.Pointer(timeout)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}
