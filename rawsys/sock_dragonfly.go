package rawsys

import (
	"syscall"
	"unsafe"
)

// DragonFly's values (sys/sys/socket.h, 6.4).
const (
	AF_INET6      = 0x1c
	SOCK_NONBLOCK = 0x20000000
	SOCK_CLOEXEC  = 0x10000000
	MSG_NOSIGNAL  = 0x400
	SO_NOSIGPIPE  = 0x800

	sysAccept4 = 541
)

// Accept4 is accept4(2) (SOCK_NONBLOCK and SOCK_CLOEXEC set atomically).
func Accept4(fd int, sa *SockaddrStorage, salen *uint32, flags int) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall6(sysAccept4, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)), uintptr(flags), 0, 0)
	return ret(r, errno)
}
