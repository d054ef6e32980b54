package rawsys

import (
	"syscall"
	"unsafe"
)

// NetBSD's values (sys/sys/socket.h, 10.0).
const (
	AF_INET6      = 0x18
	SOCK_NONBLOCK = 0x20000000
	SOCK_CLOEXEC  = 0x10000000
	MSG_NOSIGNAL  = 0x400
	SO_NOSIGPIPE  = 0x800

	sysPaccept  = 456
	sysRecvmmsg = 475
	sysSendmmsg = 476
)

// Accept4 is paccept(2) with a NULL signal mask, which is what NetBSD's
// libc accept4 calls: SOCK_NONBLOCK and SOCK_CLOEXEC are set atomically.
func Accept4(fd int, sa *SockaddrStorage, salen *uint32, flags int) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall6(sysPaccept, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)), 0, uintptr(flags), 0)
	return ret(r, errno)
}

// Recvmmsg is recvmmsg(2) with a NULL timeout (NetBSD 7 and later).
func Recvmmsg(fd int, msgs []Mmsghdr, flags int) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall6(sysRecvmmsg, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(msgs))), uintptr(len(msgs)), uintptr(flags), 0, 0)
	return ret(r, errno)
}

// Sendmmsg is sendmmsg(2) (NetBSD 7 and later).
func Sendmmsg(fd int, msgs []Mmsghdr, flags int) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall6(sysSendmmsg, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(msgs))), uintptr(len(msgs)), uintptr(flags), 0, 0)
	return ret(r, errno)
}
