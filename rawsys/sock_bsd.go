//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package rawsys

// The socket calls on darwin and the BSDs: the same Go functions as on
// Linux (see sock_linux.go for each one's contract), entered through libc
// on darwin and OpenBSD (sock_libc.go) and as direct system calls on
// FreeBSD, NetBSD and DragonFly (sock_syscall.go). All are raw: they never
// tell the scheduler, so they are for non-blocking descriptors only.
//
// Where an OS lacks a call the Go function is built from others, and says
// so: Accept4 on darwin (accept, then fcntl), Recvmmsg and Sendmmsg on
// darwin, FreeBSD and DragonFly (a loop of Recvmsg or Sendmsg; FreeBSD's
// own recvmmsg is the same loop in its libc).
//
// Read and Write, which the Linux build has in epoll_linux.go, are here
// too: a socket is read and written through them on every OS.
