//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// Listener is a non-blocking stream listener: TCP (Listen) or Unix
// (ListenUnix). Register Fd for Readable and Accept until EAGAIN. Its
// methods may be called from any goroutine; Close may race with Accept.
type Listener struct {
	ref    fdRef
	family int
	addr   netip.AddrPort
}

// Listen creates a TCP listener bound to addr (IPv4 or IPv6; port 0 picks
// a free port, readable with Addr), non-blocking and close-on-exec from the
// start, with SO_REUSEADDR on unless ReuseAddr(false) is given. A port in
// use fails with an error matching syscall.EADDRINUSE.
func Listen(addr netip.AddrPort, opts ...Option) (*Listener, error) {
	cfg := newConfig(opts)
	fam, ok := familyOf(addr.Addr())
	if !ok {
		return nil, opErr("listen", addr.String(), ErrFamily)
	}
	fd, err := socket(fam, unix.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	if err := listenFd(fd, fam, &cfg, addr); err != nil {
		unix.Close(fd)
		return nil, err
	}
	l := &Listener{family: fam}
	l.ref.init(fd)
	l.addr = sockName(fd, false)
	return l, nil
}

func listenFd(fd, fam int, cfg *config, addr netip.AddrPort) error {
	if err := cfg.applyBind(fd, fam, true); err != nil {
		return err
	}
	if err := bindAddr(fd, fam, addr, cfg.dualStack); err != nil {
		return err
	}
	if err := unix.Listen(fd, cfg.backlog); err != nil {
		return opErr("listen", addr.String(), err)
	}
	return nil
}

// bindAddr binds fd through x/sys (bind is not per connection).
func bindAddr(fd, fam int, addr netip.AddrPort, dual bool) error {
	sa, err := xsysAddr(fam, dual, addr)
	if err != nil {
		return opErr("bind", addr.String(), err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return opErr("bind", addr.String(), err)
	}
	return nil
}

func xsysAddr(fam int, dual bool, addr netip.AddrPort) (unix.Sockaddr, error) {
	var raw rawsys.RawSockaddrInet6
	if _, err := putAddr(&raw, fam, dual, addr); err != nil {
		return nil, err
	}
	if fam == rawsys.AF_INET {
		return &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().Unmap().As4()}, nil
	}
	return &unix.SockaddrInet6{Port: int(addr.Port()), Addr: addr.Addr().As16(), ZoneId: raw.ScopeID}, nil
}

// Fd returns the listening descriptor for Register, or -1 after Close. It
// stays owned by the Listener.
func (l *Listener) Fd() int { return l.ref.fdOrMinus1() }

// Addr returns the address the listener is bound to, with the port the
// kernel picked for port 0. It is the zero AddrPort for a Unix listener.
func (l *Listener) Addr() netip.AddrPort { return l.addr }

// Close closes the listener. It is idempotent, and safe against a
// concurrent Accept: the descriptor is closed when the Accept returns.
// Deregister it from its selector first.
func (l *Listener) Close() error { return l.ref.closeWait(nil) }

// Accept accepts one pending connection into c and returns the peer's
// address (the zero AddrPort for a Unix socket), allocating nothing: c is
// storage the caller owns (a zero Conn, or one that is closed and no
// longer used by any goroutine, typically a slot of a Slab). The new
// descriptor is non-blocking and close-on-exec atomically (accept4;
// accept and fcntl under syscall.ForkLock on darwin).
//
// With nothing pending Accept returns syscall.EAGAIN: the listener is
// drained, so re-arm it with WouldBlock(l.Fd(), Readable). ECONNABORTED
// (a connection reset while queued) and EINTR are retried inside.
// EMFILE and ENFILE (out of descriptors) are returned as they are: the
// connection stays queued, and the listener will not report it again, so
// back off (close something, or try again after a delay) and call Accept
// again, without WouldBlock, which on the poll backend would report the
// listener ready at once. Other errors are returned as the syscall.Errno.
// A c that is still open gives ErrInUse, a closed Listener ErrClosed.
func (l *Listener) Accept(c *Conn) (netip.AddrPort, error) {
	if c == nil || !c.ref.begin() {
		return netip.AddrPort{}, ErrInUse
	}
	if !l.ref.acquire() {
		c.ref.abort()
		return netip.AddrPort{}, ErrClosed
	}
	var sa rawsys.SockaddrStorage
	var n uint32
	var nfd int
	var errno syscall.Errno
	for {
		n = uint32(unsafe.Sizeof(sa))
		nfd, errno = rawsys.Accept4(l.ref.fd, &sa, &n, rawsys.SOCK_NONBLOCK|rawsys.SOCK_CLOEXEC)
		if errno != syscall.EINTR && errno != syscall.ECONNABORTED {
			break
		}
	}
	l.ref.release()
	if errno != 0 {
		c.ref.abort()
		return netip.AddrPort{}, errno
	}
	if err := prepare(nfd); err != nil {
		rawsys.Close(nfd)
		c.ref.abort()
		return netip.AddrPort{}, err
	}
	peer := fromSockaddr(sa.Inet6(), n)
	c.family, c.peer = l.family, peer
	c.ring.Store(nil) // storage reused: no Selector of the last connection
	c.ref.finish(nfd)
	return peer, nil
}

// Dial starts a TCP connection to addr and returns at once: the connect is
// non-blocking. Register c.Fd() for Writable (and Readable as needed); when
// the Writable event arrives (with or without an error or hang-up), call
// FinishConnect for the result. An error the kernel reports at once (for
// example ENETUNREACH) is returned here, matching the syscall.Errno with
// errors.Is.
func Dial(addr netip.AddrPort) (*Conn, error) {
	fam, ok := familyOf(addr.Addr())
	if !ok {
		return nil, opErr("dial", addr.String(), ErrFamily)
	}
	fd, err := socket(fam, unix.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	var ss rawsys.SockaddrStorage
	sl, err := putStorage(&ss, fam, false, addr)
	if err == nil {
		err = connectFd(fd, &ss, sl)
	}
	if err != nil {
		unix.Close(fd)
		return nil, opErr("dial", addr.String(), err)
	}
	c := &Conn{}
	c.ref.begin()
	c.family = fam
	c.peer = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	c.ref.finish(fd)
	return c, nil
}

// connectFd starts a non-blocking connect. EINPROGRESS (TCP), EALREADY and
// EINTR all mean the connect goes on in the background (connect(2); an
// interrupted connect completes asynchronously, as package net also
// assumes).
func connectFd(fd int, ss *rawsys.SockaddrStorage, sl uint32) error {
	switch errno := rawsys.Connect(fd, ss, sl); errno {
	case 0, syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
		return nil
	default:
		return errno
	}
}
