//go:build dragonfly || freebsd || netbsd

package rawsys

import (
	"syscall"
	"unsafe"
)

// The socket calls as direct system calls through syscall.RawSyscall6,
// which enters the kernel without telling the scheduler (the raw form, as
// the Linux stubs). The numbers are the same on FreeBSD, NetBSD and
// DragonFly (sys/kern/syscalls.master of each) except for accept4 and the
// mmsg calls, which are in sock_$GOOS.go. The pointers are converted to
// uintptr in the call expression itself, which keeps them alive and
// unmoved for the call (the unsafe.Pointer rules, case 4).

const (
	sysRead        = 3
	sysWrite       = 4
	sysClose       = 6
	sysRecvmsg     = 27
	sysSendmsg     = 28
	sysRecvfrom    = 29
	sysGetpeername = 31
	sysGetsockname = 32
	sysConnect     = 98
	sysSetsockopt  = 105
	sysGetsockopt  = 118
	sysReadv       = 120
	sysWritev      = 121
	sysSendto      = 133
	sysShutdown    = 134
)

func ret(r uintptr, errno syscall.Errno) (int, syscall.Errno) {
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}

// Read is read(2) for a non-blocking descriptor.
func Read(fd int, p []byte) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(sysRead, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return ret(r, errno)
}

// Write is write(2) for a non-blocking descriptor.
func Write(fd int, p []byte) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(sysWrite, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return ret(r, errno)
}

// Connect is connect(2); EINPROGRESS on a non-blocking TCP socket.
func Connect(fd int, sa *SockaddrStorage, salen uint32) syscall.Errno {
	_, _, errno := syscall.RawSyscall(sysConnect, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(salen))
	return errno
}

// Readv is readv(2), for non-blocking descriptors.
func Readv(fd int, iov []Iovec) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(sysReadv, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(iov))), uintptr(len(iov)))
	return ret(r, errno)
}

// Writev is writev(2), for non-blocking descriptors.
func Writev(fd int, iov []Iovec) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(sysWritev, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(iov))), uintptr(len(iov)))
	return ret(r, errno)
}

// Recvfrom is recvfrom(2), for non-blocking sockets.
func Recvfrom(fd int, p []byte, flags int, from *SockaddrStorage, fromlen *uint32) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall6(sysRecvfrom, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
		uintptr(flags), uintptr(unsafe.Pointer(from)), uintptr(unsafe.Pointer(fromlen)))
	return ret(r, errno)
}

// Sendto is sendto(2), for non-blocking sockets.
func Sendto(fd int, p []byte, flags int, to *SockaddrStorage, tolen uint32) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall6(sysSendto, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
		uintptr(flags), uintptr(unsafe.Pointer(to)), uintptr(tolen))
	return ret(r, errno)
}

// Recvmsg is recvmsg(2), for non-blocking sockets.
func Recvmsg(fd int, msg *Msghdr, flags int) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(sysRecvmsg, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
	return ret(r, errno)
}

// Sendmsg is sendmsg(2), for non-blocking sockets.
func Sendmsg(fd int, msg *Msghdr, flags int) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(sysSendmsg, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
	return ret(r, errno)
}

// Shutdown is shutdown(2).
func Shutdown(fd int, how int) syscall.Errno {
	_, _, errno := syscall.RawSyscall(sysShutdown, uintptr(fd), uintptr(how), 0)
	return errno
}

// Close is close(2). As on Linux, a socket with a positive SO_LINGER
// time can make it wait (setsockopt(2): "the close(2) ... will block"):
// close those with syscall.Close.
func Close(fd int) syscall.Errno {
	_, _, errno := syscall.RawSyscall(sysClose, uintptr(fd), 0, 0)
	return errno
}

// Getsockopt is getsockopt(2).
func Getsockopt(fd int, level int, name int, val unsafe.Pointer, vallen *uint32) syscall.Errno {
	_, _, errno := syscall.RawSyscall6(sysGetsockopt, uintptr(fd), uintptr(level), uintptr(name), uintptr(val), uintptr(unsafe.Pointer(vallen)), 0)
	return errno
}

// Setsockopt is setsockopt(2).
func Setsockopt(fd int, level int, name int, val unsafe.Pointer, vallen uint32) syscall.Errno {
	_, _, errno := syscall.RawSyscall6(sysSetsockopt, uintptr(fd), uintptr(level), uintptr(name), uintptr(val), uintptr(vallen), 0)
	return errno
}

// Getsockname is getsockname(2).
func Getsockname(fd int, sa *SockaddrStorage, salen *uint32) syscall.Errno {
	_, _, errno := syscall.RawSyscall(sysGetsockname, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)))
	return errno
}

// Getpeername is getpeername(2).
func Getpeername(fd int, sa *SockaddrStorage, salen *uint32) syscall.Errno {
	_, _, errno := syscall.RawSyscall(sysGetpeername, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)))
	return errno
}
