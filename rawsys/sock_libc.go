//go:build darwin || openbsd

package rawsys

import (
	"syscall"
	"unsafe"
)

// The socket calls through libc (the only supported system call interface
// on darwin, and on OpenBSD since 7.5 pins system calls to libc), by the
// trampolines of sock_libc.s and sock_$GOOS.s, on the system stack, without
// telling the scheduler: raw, for non-blocking descriptors only. The
// pointers are converted to uintptr in the call expression, which keeps
// them alive and unmoved through the call.

var (
	libc_read_trampoline_addr        uintptr
	libc_write_trampoline_addr       uintptr
	libc_connect_trampoline_addr     uintptr
	libc_readv_trampoline_addr       uintptr
	libc_writev_trampoline_addr      uintptr
	libc_recvfrom_trampoline_addr    uintptr
	libc_sendto_trampoline_addr      uintptr
	libc_recvmsg_trampoline_addr     uintptr
	libc_sendmsg_trampoline_addr     uintptr
	libc_shutdown_trampoline_addr    uintptr
	libc_close_trampoline_addr       uintptr
	libc_getsockopt_trampoline_addr  uintptr
	libc_setsockopt_trampoline_addr  uintptr
	libc_getsockname_trampoline_addr uintptr
	libc_getpeername_trampoline_addr uintptr
)

// libcRaw calls a libc function with up to six arguments on the system
// stack without telling the scheduler: syscall.rawSyscall6, pushed for use
// outside the standard library (go.dev/issue/67401). A separate name from
// kevent_libc.go's, so that the two files stay independent.
//
//go:linkname libcRaw syscall.rawSyscall6
func libcRaw(fn, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err syscall.Errno)

func libcRet(r uintptr, errno syscall.Errno) (int, syscall.Errno) {
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}

// Read is read(2) for a non-blocking descriptor.
func Read(fd int, p []byte) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_read_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), 0, 0, 0))
}

// Write is write(2) for a non-blocking descriptor.
func Write(fd int, p []byte) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_write_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), 0, 0, 0))
}

func libcRet2(r, _ uintptr, errno syscall.Errno) (int, syscall.Errno) { return libcRet(r, errno) }

// Connect is connect(2); EINPROGRESS on a non-blocking TCP socket.
func Connect(fd int, sa *SockaddrStorage, salen uint32) syscall.Errno {
	_, _, errno := libcRaw(libc_connect_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(salen), 0, 0, 0)
	return errno
}

// Readv is readv(2), for non-blocking descriptors.
func Readv(fd int, iov []Iovec) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_readv_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(iov))), uintptr(len(iov)), 0, 0, 0))
}

// Writev is writev(2), for non-blocking descriptors.
func Writev(fd int, iov []Iovec) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_writev_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(iov))), uintptr(len(iov)), 0, 0, 0))
}

// Recvfrom is recvfrom(2), for non-blocking sockets.
func Recvfrom(fd int, p []byte, flags int, from *SockaddrStorage, fromlen *uint32) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_recvfrom_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
		uintptr(flags), uintptr(unsafe.Pointer(from)), uintptr(unsafe.Pointer(fromlen))))
}

// Sendto is sendto(2), for non-blocking sockets.
func Sendto(fd int, p []byte, flags int, to *SockaddrStorage, tolen uint32) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_sendto_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
		uintptr(flags), uintptr(unsafe.Pointer(to)), uintptr(tolen)))
}

// Recvmsg is recvmsg(2), for non-blocking sockets.
func Recvmsg(fd int, msg *Msghdr, flags int) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_recvmsg_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags), 0, 0, 0))
}

// Sendmsg is sendmsg(2), for non-blocking sockets.
func Sendmsg(fd int, msg *Msghdr, flags int) (int, syscall.Errno) {
	return libcRet2(libcRaw(libc_sendmsg_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags), 0, 0, 0))
}

// Shutdown is shutdown(2).
func Shutdown(fd int, how int) syscall.Errno {
	_, _, errno := libcRaw(libc_shutdown_trampoline_addr, uintptr(fd), uintptr(how), 0, 0, 0, 0)
	return errno
}

// Close is close(2); see sock_syscall.go about SO_LINGER.
func Close(fd int) syscall.Errno {
	_, _, errno := libcRaw(libc_close_trampoline_addr, uintptr(fd), 0, 0, 0, 0, 0)
	return errno
}

// Getsockopt is getsockopt(2).
func Getsockopt(fd int, level int, name int, val unsafe.Pointer, vallen *uint32) syscall.Errno {
	_, _, errno := libcRaw(libc_getsockopt_trampoline_addr, uintptr(fd), uintptr(level), uintptr(name), uintptr(val), uintptr(unsafe.Pointer(vallen)), 0)
	return errno
}

// Setsockopt is setsockopt(2).
func Setsockopt(fd int, level int, name int, val unsafe.Pointer, vallen uint32) syscall.Errno {
	_, _, errno := libcRaw(libc_setsockopt_trampoline_addr, uintptr(fd), uintptr(level), uintptr(name), uintptr(val), uintptr(vallen), 0)
	return errno
}

// Getsockname is getsockname(2).
func Getsockname(fd int, sa *SockaddrStorage, salen *uint32) syscall.Errno {
	_, _, errno := libcRaw(libc_getsockname_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)), 0, 0, 0)
	return errno
}

// Getpeername is getpeername(2).
func Getpeername(fd int, sa *SockaddrStorage, salen *uint32) syscall.Errno {
	_, _, errno := libcRaw(libc_getpeername_trampoline_addr, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)), 0, 0, 0)
	return errno
}
