//go:build dragonfly || (linux && (amd64 || arm64)) || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// sendFlags go with every send: MSG_NOSIGNAL, so that a write to a
// connection whose peer is gone returns EPIPE instead of raising SIGPIPE
// (send(2)). sock writes sockets only through sendto and sendmsg, never
// write(2) or writev(2), which take no flags.
const sendFlags = rawsys.MSG_NOSIGNAL

// socket creates a non-blocking, close-on-exec socket atomically.
func socket(family, typ int) (int, error) {
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, opErr("socket", "", err)
	}
	return fd, nil
}

// socketpair creates a connected pair likewise.
func socketpair(typ int) ([2]int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fds, opErr("socketpair", "", err)
	}
	return fds, nil
}

// prepare readies a descriptor that sock did not create (accepted, or
// taken over from package net): nothing to do where sends carry
// MSG_NOSIGNAL.
func prepare(fd int) error { return nil }
