//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// Errors for bad input and misuse. Kernel errors come back as the
// syscall.Errno itself from the per-message calls (no allocation; test
// them with errors.Is or ==), and wrapped in an *OpError from the cold ones
// (Listen, Dial, ...), where errors.Is works the same.
var (
	// ErrClosed is returned by every call on a closed (or zero) socket. It
	// matches net.ErrClosed too.
	ErrClosed = fmt.Errorf("sock: use of closed socket: %w", net.ErrClosed)
	// ErrFamily is returned for an address whose family the socket cannot
	// use: an IPv6 address on an IPv4 socket, an IPv4 address on an IPv6
	// socket that is not dual-stack, or an address that is not valid.
	ErrFamily = errors.New("sock: address family does not match the socket")
	// ErrInUse is returned by Accept into a Conn that is still open.
	ErrInUse = errors.New("sock: Accept into a Conn that is still open or in use")
	// ErrUnixPath is returned for a Unix socket path that does not fit in
	// sun_path, or that holds a 0 byte.
	ErrUnixPath = errors.New("sock: Unix socket path too long or containing NUL")
	// ErrNotStream and ErrNotDatagram are returned when a descriptor handed
	// over (FromNetConn, FromNetListener, FromNetUDPConn) is of the wrong
	// kind.
	ErrNotStream   = errors.New("sock: not a stream socket")
	ErrNotDatagram = errors.New("sock: not a datagram socket")
)

// OpError is the error of a call that is not per message: it names the
// operation and the address, and wraps the cause (usually a syscall.Errno).
type OpError struct {
	Op   string // "listen", "dial", "bind", "socket", "close", ...
	Addr string // the address the operation was about, or ""
	Err  error
}

func (e *OpError) Error() string {
	s := "sock: " + e.Op
	if e.Addr != "" {
		s += " " + e.Addr
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

func opErr(op, addr string, err error) error {
	if err == nil {
		return nil
	}
	return &OpError{Op: op, Addr: addr, Err: err}
}

// errnoErr turns a stub's errno into an error without allocating:
// converting a syscall.Errno below 256 to an interface uses the runtime's
// static small-integer table.
func errnoErr(errno syscall.Errno) error {
	if errno == 0 {
		return nil
	}
	return errno
}
