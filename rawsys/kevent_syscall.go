//go:build freebsd || netbsd || dragonfly

package rawsys

import (
	"syscall"
	"unsafe"
)

// FreeBSD, NetBSD and DragonFly allow direct system calls; the number in
// kevent_$GOOS.go is the one whose struct kevent matches Kevent there.

// Kqueue creates a kqueue. It cannot block. See kevent_$GOOS.go for
// whether the descriptor is close-on-exec.
func Kqueue() (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(sysKqueue, kqueueArg, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}

// KeventRaw is kevent(2) without telling the scheduler: for change lists
// and zero timeouts only, where it cannot block.
func KeventRaw(kq int, changes *Kevent_t, nchanges int, events *Kevent_t, nevents int, timeout *Timespec) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall6(sysKevent, uintptr(kq), uintptr(unsafe.Pointer(changes)), uintptr(nchanges),
		uintptr(unsafe.Pointer(events)), uintptr(nevents), uintptr(unsafe.Pointer(timeout)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}

// Kevent is kevent(2), telling the scheduler (syscall.Syscall6 brackets it
// with entersyscall/exitsyscall): a nil timeout blocks.
func Kevent(kq int, changes *Kevent_t, nchanges int, events *Kevent_t, nevents int, timeout *Timespec) (int, syscall.Errno) {
	r, _, errno := syscall.Syscall6(sysKevent, uintptr(kq), uintptr(unsafe.Pointer(changes)), uintptr(nchanges),
		uintptr(unsafe.Pointer(events)), uintptr(nevents), uintptr(unsafe.Pointer(timeout)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}
