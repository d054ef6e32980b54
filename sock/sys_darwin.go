package sock

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// darwin has no SOCK_NONBLOCK or SOCK_CLOEXEC and, on older releases, no
// MSG_NOSIGNAL: sockets get FD_CLOEXEC under syscall.ForkLock (as package
// net does), O_NONBLOCK with fcntl, and SO_NOSIGPIPE, which stops SIGPIPE
// for every write on the socket (setsockopt(2), darwin).
const sendFlags = 0

func socket(family, typ int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, typ, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, opErr("socket", "", err)
	}
	if err := setup(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func socketpair(typ int) ([2]int, error) {
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(unix.AF_UNIX, typ, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return fds, opErr("socketpair", "", err)
	}
	for _, fd := range fds {
		if err := setup(fd); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return fds, err
		}
	}
	return fds, nil
}

func setup(fd int) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		return opErr("setnonblock", "", err)
	}
	return prepare(fd)
}

// prepare sets SO_NOSIGPIPE (accepted sockets do not reliably inherit
// it). It makes no allocation: it runs on every accept.
func prepare(fd int) error {
	one := int32(1)
	if errno := rawsys.Setsockopt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, unsafe.Pointer(&one), 4); errno != 0 {
		return errno
	}
	return nil
}
