//go:build darwin || (openbsd && (amd64 || arm64))

package rawsys

import (
	"syscall"
	"unsafe"
)

// On darwin and OpenBSD the kernel entry points are libc's: the .s files
// hold trampolines to libc_kqueue and libc_kevent, imported dynamically in
// kevent_$GOOS.go without cgo, and these functions call them through the
// runtime's libc call path (the same one golang.org/x/sys uses).

var (
	libc_kqueue_trampoline_addr uintptr
	libc_kevent_trampoline_addr uintptr
)

// syscall6 and rawSyscall6 call a libc function on the system stack; the
// first brackets it with entersyscall/exitsyscall. Both are pushed for use
// outside the standard library (syscall/syscall_darwin.go,
// runtime/sys_openbsd.go; go.dev/issue/67401).
//
//go:linkname syscall6 syscall.syscall6
func syscall6(fn, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err syscall.Errno)

//go:linkname rawSyscall6 syscall.rawSyscall6
func rawSyscall6(fn, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err syscall.Errno)

// Kqueue is kqueue(2). It cannot block. The descriptor is not
// close-on-exec: the caller sets FD_CLOEXEC.
func Kqueue() (int, syscall.Errno) {
	r, _, errno := rawSyscall6(libc_kqueue_trampoline_addr, 0, 0, 0, 0, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}

// KqueueCloexec returns ENOSYS: darwin has no kqueue1, and OpenBSD's libc
// has it only since 7.8, where importing it would stop the binary from
// loading on older releases (see kevent_openbsd.go).
func KqueueCloexec() (int, syscall.Errno) { return -1, syscall.ENOSYS }

// KeventRaw is kevent(2) without telling the scheduler. The selector uses
// it for change lists and zero timeouts: neither waits for an event, and
// the sleeps the kernel may take on the way (xnu bsd/kern/kern_event.c
// knote_lock, zone allocations; OpenBSD kqueue_register's wait for a knote
// another thread is processing) are short waits on memory and on other
// threads' CPU work, not on I/O or time. The Go runtime makes the same
// choice (runtime/netpoll_kqueue.go submits changes with a plain kevent
// call). The pointers are converted in the call expression, which keeps
// them alive through it.
func KeventRaw(kq int, changes *Kevent_t, nchanges int, events *Kevent_t, nevents int, timeout *Timespec) (int, syscall.Errno) {
	r, _, errno := rawSyscall6(libc_kevent_trampoline_addr, uintptr(kq), uintptr(unsafe.Pointer(changes)), uintptr(nchanges),
		uintptr(unsafe.Pointer(events)), uintptr(nevents), uintptr(unsafe.Pointer(timeout)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}

// Kevent is kevent(2), telling the scheduler (syscall6 brackets it with
// entersyscall/exitsyscall): for waits with a timeout, or none (a nil
// timeout blocks until an event arrives).
func Kevent(kq int, changes *Kevent_t, nchanges int, events *Kevent_t, nevents int, timeout *Timespec) (int, syscall.Errno) {
	r, _, errno := syscall6(libc_kevent_trampoline_addr, uintptr(kq), uintptr(unsafe.Pointer(changes)), uintptr(nchanges),
		uintptr(unsafe.Pointer(events)), uintptr(nevents), uintptr(unsafe.Pointer(timeout)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}
