//go:build amd64 || arm64

package rawsys

import (
	"syscall"
	"unsafe"
)

// The socket calls a server makes per connection and per message, as raw
// stubs (sock_linux_$GOARCH.s). Like Read and Write, each is one SYSCALL or
// SVC on the goroutine's stack and never tells the scheduler, so each is
// for non-blocking descriptors (O_NONBLOCK, or SOCK_NONBLOCK at creation)
// only: there the kernel returns EAGAIN instead of sleeping. On a blocking
// descriptor any of the I/O calls below would stall the P.
//
// Every pointer argument is read or written by the kernel during the call
// only and is not retained, hence //go:noescape; the pointers stay valid
// because they are arguments of the call (seen by the GC) and a goroutine
// stack does not move while an assembly function without a frame runs.

// Accept4 is accept4(2). flags takes SOCK_NONBLOCK and SOCK_CLOEXEC, set
// atomically on the new descriptor. sa and salen may be nil; otherwise
// *salen is the size of *sa on entry and the peer address length on
// return. On a non-blocking listener it returns EAGAIN instead of waiting.
//
//go:noescape
func Accept4(fd int, sa *SockaddrStorage, salen *uint32, flags int) (nfd int, errno syscall.Errno)

// Connect is connect(2). On a non-blocking socket it does not wait for
// the handshake: TCP returns EINPROGRESS (the result comes later through
// writability and SO_ERROR), a Unix stream socket whose listener's backlog
// is full returns EAGAIN.
//
//go:noescape
func Connect(fd int, sa *SockaddrStorage, salen uint32) (errno syscall.Errno)

// Readv is readv(2), for non-blocking descriptors. At most IOV_MAX iovecs.
//
//go:noescape
func Readv(fd int, iov []Iovec) (n int, errno syscall.Errno)

// Writev is writev(2), for non-blocking descriptors. At most IOV_MAX
// iovecs. A writev on a socket whose peer has gone raises SIGPIPE; use
// Sendmsg with MSG_NOSIGNAL where that matters.
//
//go:noescape
func Writev(fd int, iov []Iovec) (n int, errno syscall.Errno)

// Recvfrom is recvfrom(2), for non-blocking sockets (or with
// MSG_DONTWAIT). from and fromlen may be nil.
//
//go:noescape
func Recvfrom(fd int, p []byte, flags int, from *SockaddrStorage, fromlen *uint32) (n int, errno syscall.Errno)

// Sendto is sendto(2), for non-blocking sockets (or with MSG_DONTWAIT).
// to may be nil (with tolen 0) on a connected socket.
//
//go:noescape
func Sendto(fd int, p []byte, flags int, to *SockaddrStorage, tolen uint32) (n int, errno syscall.Errno)

// Recvmsg is recvmsg(2), for non-blocking sockets.
//
//go:noescape
func Recvmsg(fd int, msg *Msghdr, flags int) (n int, errno syscall.Errno)

// Sendmsg is sendmsg(2), for non-blocking sockets.
//
//go:noescape
func Sendmsg(fd int, msg *Msghdr, flags int) (n int, errno syscall.Errno)

// Recvmmsg is recvmmsg(2) with a NULL timeout, for non-blocking sockets
// (or with MSG_DONTWAIT): it returns the number of messages received,
// stores each one's length in its Mmsghdr.Len, and returns EAGAIN only
// when no message was waiting. The kernel takes at most IOV_MAX (UIO_MAXIOV)
// messages per call.
//
//go:noescape
func Recvmmsg(fd int, msgs []Mmsghdr, flags int) (n int, errno syscall.Errno)

// Sendmmsg is sendmmsg(2), for non-blocking sockets: it returns the
// number of messages sent (fewer than len(msgs) when the send buffer
// filled), and an error only when the first one failed.
//
//go:noescape
func Sendmmsg(fd int, msgs []Mmsghdr, flags int) (n int, errno syscall.Errno)

// Shutdown is shutdown(2) (SHUT_RD, SHUT_WR, SHUT_RDWR). It does not wait.
func Shutdown(fd int, how int) (errno syscall.Errno)

// Close is close(2). It does not wait, except on a socket with SO_LINGER
// enabled and a positive linger time, where the kernel holds close until
// the queued data is sent or the time runs out whether or not the socket
// is non-blocking (socket(7); tcp_close in net/ipv4/tcp.c): close such a
// socket with syscall.Close, which tells the scheduler, instead.
func Close(fd int) (errno syscall.Errno)

// Getsockopt is getsockopt(2); *vallen is the size of *val on entry and
// the option's length on return. It does not wait.
//
//go:noescape
func Getsockopt(fd int, level int, name int, val unsafe.Pointer, vallen *uint32) (errno syscall.Errno)

// Setsockopt is setsockopt(2). It does not wait.
//
//go:noescape
func Setsockopt(fd int, level int, name int, val unsafe.Pointer, vallen uint32) (errno syscall.Errno)

// Getsockname is getsockname(2); *salen is the size of *sa on entry and
// the address length on return.
//
//go:noescape
func Getsockname(fd int, sa *SockaddrStorage, salen *uint32) (errno syscall.Errno)

// Getpeername is getpeername(2), as Getsockname; ENOTCONN while a
// non-blocking connect is still in progress.
//
//go:noescape
func Getpeername(fd int, sa *SockaddrStorage, salen *uint32) (errno syscall.Errno)
