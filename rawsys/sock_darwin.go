package rawsys

import (
	"syscall"
	"unsafe"
)

// darwin's values (xnu bsd/sys/socket.h, bsd/netinet6/in6.h). darwin has
// neither accept4 nor SOCK_NONBLOCK/SOCK_CLOEXEC: Accept4 takes these two
// flags (FreeBSD's values) and applies them with fcntl.
const (
	AF_INET6      = 0x1e
	SOCK_NONBLOCK = 0x20000000
	SOCK_CLOEXEC  = 0x10000000
	// MSG_NOSIGNAL exists in recent xnu only; sock relies on SO_NOSIGPIPE,
	// which every darwin has, instead.
	MSG_NOSIGNAL = 0x80000
	SO_NOSIGPIPE = 0x1022

	fF_SETFD    = 2
	fF_GETFL    = 3
	fF_SETFL    = 4
	fFD_CLOEXEC = 1
	fO_NONBLOCK = 0x4
)

var (
	libc_accept_trampoline_addr uintptr
	libc_fcntl_trampoline_addr  uintptr
)

// libcRaw3 is syscall.rawSyscall, for fcntl: the runtime's libc call puts
// the third argument of a three-argument call on the stack as well, where
// darwin/arm64 passes variadic arguments (runtime/sys_darwin_arm64.s,
// syscallN_trampoline); through the six-argument form fcntl would read
// its argument from the wrong place.
//
//go:linkname libcRaw3 syscall.rawSyscall
func libcRaw3(fn, a1, a2, a3 uintptr) (r1, r2 uintptr, err syscall.Errno)

// Accept4 is accept(2) followed by fcntl for the flags: not atomic. The
// window between accept and FD_CLOEXEC is covered by syscall.ForkLock,
// as package net does on darwin, so no fork started by package os or
// syscall inherits the descriptor. On a non-blocking listener it returns
// EAGAIN instead of waiting.
func Accept4(fd int, sa *SockaddrStorage, salen *uint32, flags int) (int, syscall.Errno) {
	syscall.ForkLock.RLock()
	r, _, errno := libcRaw(libc_accept_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)), 0, 0, 0)
	if errno != 0 {
		syscall.ForkLock.RUnlock()
		return -1, errno
	}
	nfd := r
	if flags&SOCK_CLOEXEC != 0 {
		_, _, errno = libcRaw3(libc_fcntl_trampoline_addr, nfd, fF_SETFD, fFD_CLOEXEC)
	}
	syscall.ForkLock.RUnlock()
	if errno == 0 && flags&SOCK_NONBLOCK != 0 {
		var fl uintptr
		if fl, _, errno = libcRaw3(libc_fcntl_trampoline_addr, nfd, fF_GETFL, 0); errno == 0 {
			_, _, errno = libcRaw3(libc_fcntl_trampoline_addr, nfd, fF_SETFL, fl|fO_NONBLOCK)
		}
	}
	if errno != 0 {
		Close(int(nfd))
		return -1, errno
	}
	return int(nfd), 0
}

//go:cgo_import_dynamic libc_read read "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_write write "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_connect connect "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_readv readv "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_writev writev "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_recvfrom recvfrom "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_sendto sendto "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_recvmsg recvmsg "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_sendmsg sendmsg "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_shutdown shutdown "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_close close "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_getsockopt getsockopt "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_setsockopt setsockopt "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_getsockname getsockname "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_getpeername getpeername "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_accept accept "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_fcntl fcntl "/usr/lib/libSystem.B.dylib"
