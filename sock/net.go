//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// From and to package net.
//
// Taking a socket over from package net duplicates its descriptor with
// F_DUPFD_CLOEXEC through SyscallConn, keeps the shared open file
// non-blocking, and closes the original, so that Go's own poller lets go
// of it (its registration is removed as the original number is closed; the
// open file lives on in the duplicate). File() is not used: it clears
// O_NONBLOCK on the open file both descriptors share, and a registration
// made before it can outlive the number it was made for.

// takeOver duplicates the descriptor of a package-net socket, checks its
// type, makes sure it is non-blocking, and closes the original.
func takeOver(sc syscall.Conn, closer interface{ Close() error }, wantType int) (int, error) {
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, opErr("take over", "", err)
	}
	nfd := -1
	var derr error
	if err := raw.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, opErr("take over", "", err)
	}
	if derr != nil {
		return -1, opErr("take over: F_DUPFD_CLOEXEC", "", derr)
	}
	fail := func(err error) (int, error) {
		unix.Close(nfd)
		return -1, opErr("take over", "", err)
	}
	if typ, err := getInt(nfd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return fail(err)
	} else if typ != wantType {
		if wantType == unix.SOCK_STREAM {
			return fail(ErrNotStream)
		}
		return fail(ErrNotDatagram)
	}
	// Go's poller made the open file non-blocking; someone may have
	// called File() on it since. The flag is shared, so this sets it for
	// the original too, which is closed next.
	if fl, err := unix.FcntlInt(uintptr(nfd), unix.F_GETFL, 0); err != nil {
		return fail(err)
	} else if fl&unix.O_NONBLOCK == 0 {
		if err := unix.SetNonblock(nfd, true); err != nil {
			return fail(err)
		}
	}
	if err := prepare(nfd); err != nil {
		return fail(err)
	}
	if err := closer.Close(); err != nil {
		return fail(err)
	}
	return nfd, nil
}

// FromNetListener takes over a *net.TCPListener or *net.UnixListener: the
// returned Listener has a duplicate of its descriptor, non-blocking and
// close-on-exec, and l is closed (a Unix listener's socket file is left in
// place: its unlink-on-close is turned off). Connections already queued
// are accepted by the new Listener.
func FromNetListener(l net.Listener) (*Listener, error) {
	var sc syscall.Conn
	switch t := l.(type) {
	case *net.TCPListener:
		sc = t
	case *net.UnixListener:
		t.SetUnlinkOnClose(false)
		sc = t
	default:
		return nil, opErr("take over", "", fmt.Errorf("%T is not a *net.TCPListener or *net.UnixListener", l))
	}
	fd, err := takeOver(sc, l, unix.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	ln := &Listener{family: sockFamily(fd)}
	ln.ref.init(fd)
	if ln.family != unix.AF_UNIX {
		ln.addr = sockName(fd, false)
	}
	return ln, nil
}

// FromNetConn takes over a stream connection from package net
// (*net.TCPConn, or a *net.UnixConn of type "unix"): the returned Conn has
// a duplicate of its descriptor, non-blocking and close-on-exec, and c is
// closed. Data the kernel has queued stays queued; data c's user had
// already read into a buffer of its own (a bufio.Reader, say) is not the
// kernel's and does not come along.
func FromNetConn(c net.Conn) (*Conn, error) {
	var sc syscall.Conn
	var peer netip.AddrPort
	switch t := c.(type) {
	case *net.TCPConn:
		sc = t
		peer = t.RemoteAddr().(*net.TCPAddr).AddrPort()
		peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	case *net.UnixConn:
		sc = t
	default:
		return nil, opErr("take over", "", fmt.Errorf("%T is not a *net.TCPConn or *net.UnixConn", c))
	}
	fd, err := takeOver(sc, c, unix.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	nc := &Conn{}
	nc.ref.begin()
	nc.family, nc.peer = sockFamily(fd), peer
	nc.ref.finish(fd)
	return nc, nil
}

// FromNetUDPConn takes over a *net.UDPConn likewise. A connected one stays
// connected (Read and Write work), but PeerAddr is then zero, and WriteTo,
// which sock refuses on connected sockets, is only refused by the kernel
// (EISCONN) where it refuses it.
func FromNetUDPConn(c *net.UDPConn) (*UDPConn, error) {
	fd, err := takeOver(c, c, unix.SOCK_DGRAM)
	if err != nil {
		return nil, err
	}
	u := &UDPConn{family: sockFamily(fd)}
	if u.family == unix.AF_INET6 {
		if v6only, err := getInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); err == nil && v6only == 0 {
			u.dual = true
		}
	}
	u.ref.init(fd)
	return u, nil
}

// NetConn hands the connection over to package net, for code that needs a
// net.Conn and blocking semantics (crypto/tls in a goroutine of its own,
// say): the returned net.Conn is served by Go's own poller, with
// deadlines, and c is closed. Deregister c.Fd() from its selector first:
// the descriptor number is closed here, but the open file lives on in the
// net.Conn, and epoll keeps reporting a registration until the open file
// goes (epoll(7), "Questions and answers", Q6). O_NONBLOCK stays set
// throughout (package net duplicates the descriptor from an *os.File made
// with os.NewFile, which, for a non-blocking descriptor, never clears it).
func (c *Conn) NetConn() (net.Conn, error) {
	if !c.ref.acquire() {
		return nil, ErrClosed
	}
	nfd, err := unix.FcntlInt(uintptr(c.ref.fd), unix.F_DUPFD_CLOEXEC, 0)
	c.ref.release()
	if err != nil {
		return nil, opErr("net conn: F_DUPFD_CLOEXEC", "", err)
	}
	f := os.NewFile(uintptr(nfd), "sock")
	nc, err := net.FileConn(f) // its own duplicate, registered with Go's poller
	f.Close()
	if err != nil {
		return nil, opErr("net conn", "", err)
	}
	c.Close()
	return nc, nil
}
