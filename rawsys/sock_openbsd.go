package rawsys

import (
	"syscall"
	"unsafe"
)

// OpenBSD's values (sys/sys/socket.h, 7.5).
const (
	AF_INET6      = 0x18
	SOCK_NONBLOCK = 0x4000
	SOCK_CLOEXEC  = 0x8000
	MSG_NOSIGNAL  = 0x400
)

var (
	libc_accept4_trampoline_addr  uintptr
	libc_recvmmsg_trampoline_addr uintptr
	libc_sendmmsg_trampoline_addr uintptr
)

// Accept4 is accept4(2) (SOCK_NONBLOCK and SOCK_CLOEXEC set atomically).
func Accept4(fd int, sa *SockaddrStorage, salen *uint32, flags int) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_accept4_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)), uintptr(flags), 0, 0))
}

// Recvmmsg is recvmmsg(2) with a NULL timeout (OpenBSD 7.2 and later).
func Recvmmsg(fd int, msgs []Mmsghdr, flags int) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_recvmmsg_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(msgs))), uintptr(len(msgs)), uintptr(flags), 0, 0))
}

// Sendmmsg is sendmmsg(2) (OpenBSD 7.2 and later).
func Sendmmsg(fd int, msgs []Mmsghdr, flags int) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_sendmmsg_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(msgs))), uintptr(len(msgs)), uintptr(flags), 0, 0))
}

//go:cgo_import_dynamic libc_read read "libc.so"
//go:cgo_import_dynamic libc_write write "libc.so"
//go:cgo_import_dynamic libc_connect connect "libc.so"
//go:cgo_import_dynamic libc_readv readv "libc.so"
//go:cgo_import_dynamic libc_writev writev "libc.so"
//go:cgo_import_dynamic libc_recvfrom recvfrom "libc.so"
//go:cgo_import_dynamic libc_sendto sendto "libc.so"
//go:cgo_import_dynamic libc_recvmsg recvmsg "libc.so"
//go:cgo_import_dynamic libc_sendmsg sendmsg "libc.so"
//go:cgo_import_dynamic libc_shutdown shutdown "libc.so"
//go:cgo_import_dynamic libc_close close "libc.so"
//go:cgo_import_dynamic libc_getsockopt getsockopt "libc.so"
//go:cgo_import_dynamic libc_setsockopt setsockopt "libc.so"
//go:cgo_import_dynamic libc_getsockname getsockname "libc.so"
//go:cgo_import_dynamic libc_getpeername getpeername "libc.so"
//go:cgo_import_dynamic libc_accept4 accept4 "libc.so"
//go:cgo_import_dynamic libc_recvmmsg recvmmsg "libc.so"
//go:cgo_import_dynamic libc_sendmmsg sendmmsg "libc.so"
