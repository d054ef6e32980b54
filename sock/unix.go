//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// UnixAddr is a Unix socket address held by value (no allocation to pass
// or return one): a pathname, an abstract name written "@name" (Linux
// only: unix(7); elsewhere '@' is an ordinary character), or the unnamed
// address of an unbound socket.
type UnixAddr struct {
	n uint8
	b [108]byte // the longest sun_path (Linux; the BSDs have 104)
}

// UnixAddrOf returns the address for name. It fails with ErrUnixPath for
// a name too long for sun_path or one holding a 0 byte.
func UnixAddrOf(name string) (UnixAddr, error) {
	var a UnixAddr
	var ss rawsys.SockaddrStorage
	if strings.IndexByte(name, 0) >= 0 {
		return a, ErrUnixPath
	}
	if _, ok := ss.SetUnix(name); !ok {
		return a, ErrUnixPath
	}
	a.n = uint8(copy(a.b[:], name))
	return a, nil
}

// String returns the name ("" for the unnamed address).
func (a UnixAddr) String() string { return string(a.b[:a.n]) }

// IsUnnamed reports whether this is the unnamed address (a socket that was
// never bound, like most Unix clients).
func (a UnixAddr) IsUnnamed() bool { return a.n == 0 }

// put stores the address for a system call and returns its length. The
// string is a view of a.b, which SetUnix only copies from, during the
// call: nothing allocates and nothing keeps it.
func (a *UnixAddr) put(ss *rawsys.SockaddrStorage) uint32 {
	n, _ := ss.SetUnix(unsafe.String(unsafe.SliceData(a.b[:]), int(a.n)))
	return n
}

// unixFrom decodes a sockaddr_un of length n as the kernel stored it.
func unixFrom(ss *rawsys.SockaddrStorage, n uint32) UnixAddr {
	var a UnixAddr
	if ss.Family() != rawsys.AF_UNIX || n <= rawsys.SizeofSockaddrUnixHeader {
		return a
	}
	u := ss.Unix()
	path := u.Path[:min(int(n)-rawsys.SizeofSockaddrUnixHeader, len(u.Path))]
	if runtime.GOOS == "linux" && path[0] == 0 {
		// An abstract name: exactly the bytes after the 0 (unix(7)).
		a.b[0] = '@'
		a.n = uint8(1 + copy(a.b[1:], path[1:]))
		return a
	}
	for i, c := range path { // a pathname ends at its first 0
		if c == 0 {
			path = path[:i]
			break
		}
	}
	a.n = uint8(copy(a.b[:], path))
	return a
}

func unixName(fd int, peer bool) UnixAddr {
	var ss rawsys.SockaddrStorage
	n, errno := rawName(fd, peer, &ss)
	if errno != 0 {
		return UnixAddr{}
	}
	return unixFrom(&ss, n)
}

// bindUnix binds through x/sys (not per message), which encodes the name
// as UnixAddr.put does ("@" is abstract on Linux only).
func bindUnix(fd int, name string) error {
	if _, err := UnixAddrOf(name); err != nil {
		return opErr("bind", name, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: name}); err != nil {
		return opErr("bind", name, err)
	}
	return nil
}

// ListenUnix creates a Unix stream listener bound to name (a path, or
// "@name" for the abstract namespace on Linux). A path that exists fails
// with syscall.EADDRINUSE; sock never removes socket files, neither before
// binding nor at Close (package net removes the ones its listeners
// created). Option: Backlog.
func ListenUnix(name string, opts ...Option) (*Listener, error) {
	cfg := newConfig(opts)
	fd, err := socket(unix.AF_UNIX, unix.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	if err := bindUnix(fd, name); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.Listen(fd, cfg.backlog); err != nil {
		unix.Close(fd)
		return nil, opErr("listen", name, err)
	}
	l := &Listener{family: unix.AF_UNIX}
	l.ref.init(fd)
	return l, nil
}

// UnixAddr returns a Unix listener's name, or the unnamed address.
func (l *Listener) UnixAddr() UnixAddr {
	if l.family != unix.AF_UNIX || !l.ref.acquire() {
		return UnixAddr{}
	}
	defer l.ref.release()
	return unixName(l.ref.fd, false)
}

// DialUnix connects a Unix stream socket to name. A Unix connect does not
// wait for a handshake: it succeeds at once, or fails at once with
// syscall.ENOENT (no such socket), ECONNREFUSED (nobody listening), or
// EAGAIN (the listener's backlog is full, Linux: try again later).
func DialUnix(name string) (*Conn, error) {
	fd, err := dialUnix(unix.SOCK_STREAM, name)
	if err != nil {
		return nil, err
	}
	c := &Conn{}
	c.ref.begin()
	c.family = unix.AF_UNIX
	c.ref.finish(fd)
	return c, nil
}

func dialUnix(typ int, name string) (int, error) {
	a, err := UnixAddrOf(name)
	if err != nil {
		return -1, opErr("dial", name, err)
	}
	fd, err := socket(unix.AF_UNIX, typ)
	if err != nil {
		return -1, err
	}
	var ss rawsys.SockaddrStorage
	sl := a.put(&ss)
	if errno := rawsys.Connect(fd, &ss, sl); errno != 0 {
		unix.Close(fd)
		return -1, opErr("dial", name, errno)
	}
	return fd, nil
}

// Pair returns two connected Unix stream sockets (socketpair(2)),
// non-blocking and close-on-exec.
func Pair() (*Conn, *Conn, error) {
	fds, err := socketpair(unix.SOCK_STREAM)
	if err != nil {
		return nil, nil, err
	}
	a, b := &Conn{family: unix.AF_UNIX}, &Conn{family: unix.AF_UNIX}
	a.ref.init(fds[0])
	b.ref.init(fds[1])
	return a, b, nil
}

// LocalUnixAddr returns a Unix connection's own name (usually unnamed for
// a client).
func (c *Conn) LocalUnixAddr() UnixAddr {
	if c.family != unix.AF_UNIX || !c.ref.acquire() {
		return UnixAddr{}
	}
	defer c.ref.release()
	return unixName(c.ref.fd, false)
}

// PeerUnixAddr returns a Unix connection's peer name (for a connection
// accepted by a listener, usually unnamed; for DialUnix, the listener's).
func (c *Conn) PeerUnixAddr() UnixAddr {
	if c.family != unix.AF_UNIX || !c.ref.acquire() {
		return UnixAddr{}
	}
	defer c.ref.release()
	return unixName(c.ref.fd, true)
}

// UnixgramConn is a non-blocking Unix datagram socket: bound
// (ListenUnixgram), connected (DialUnixgram), or one of a pair
// (PairDatagram). Concurrency and Close are as for Conn.
type UnixgramConn struct {
	ref fdRef
}

// ListenUnixgram creates a Unix datagram socket bound to name (a path, or
// "@name" on Linux), to receive with ReadFrom and reply with WriteTo.
func ListenUnixgram(name string) (*UnixgramConn, error) {
	fd, err := socket(unix.AF_UNIX, unix.SOCK_DGRAM)
	if err != nil {
		return nil, err
	}
	if err := bindUnix(fd, name); err != nil {
		unix.Close(fd)
		return nil, err
	}
	u := &UnixgramConn{}
	u.ref.init(fd)
	return u, nil
}

// DialUnixgram creates an unbound Unix datagram socket connected to name,
// for Write (connect fails at once with syscall.ENOENT or ECONNREFUSED
// when no socket is bound there).
func DialUnixgram(name string) (*UnixgramConn, error) {
	fd, err := dialUnix(unix.SOCK_DGRAM, name)
	if err != nil {
		return nil, err
	}
	u := &UnixgramConn{}
	u.ref.init(fd)
	return u, nil
}

// PairDatagram returns two connected Unix datagram sockets.
func PairDatagram() (*UnixgramConn, *UnixgramConn, error) {
	fds, err := socketpair(unix.SOCK_DGRAM)
	if err != nil {
		return nil, nil, err
	}
	a, b := &UnixgramConn{}, &UnixgramConn{}
	a.ref.init(fds[0])
	b.ref.init(fds[1])
	return a, b, nil
}

// Fd returns the descriptor, for Register, or -1 after Close.
func (u *UnixgramConn) Fd() int { return u.ref.fdOrMinus1() }

// Close closes the socket; idempotent, as Conn.Close. A bound path stays.
func (u *UnixgramConn) Close() error { return u.ref.closeWait(nil) }

// LocalAddr returns the socket's own name.
func (u *UnixgramConn) LocalAddr() UnixAddr {
	if !u.ref.acquire() {
		return UnixAddr{}
	}
	defer u.ref.release()
	return unixName(u.ref.fd, false)
}

// Read receives one datagram (truncated to len(p)). syscall.EAGAIN: re-arm
// with WouldBlock(fd, Readable).
func (u *UnixgramConn) Read(p []byte) (int, error) { return recvOne(&u.ref, p) }

// Write sends p as one datagram to the connected peer. syscall.EAGAIN
// means the peer's queue is full: re-arm with WouldBlock(fd, Writable).
// A peer that is gone gives ECONNREFUSED (Linux) and never SIGPIPE.
func (u *UnixgramConn) Write(p []byte) (int, error) { return sendOne(&u.ref, p) }

// ReadFrom receives one datagram and its sender's name (unnamed when the
// sender is not bound). syscall.EAGAIN: re-arm with WouldBlock(fd,
// Readable).
func (u *UnixgramConn) ReadFrom(p []byte) (int, UnixAddr, error) {
	if !u.ref.acquire() {
		return 0, UnixAddr{}, ErrClosed
	}
	var ss rawsys.SockaddrStorage
	n, sl, errno := recvFrom(u.ref.fd, p, &ss)
	u.ref.release()
	if errno != 0 {
		return 0, UnixAddr{}, errno
	}
	return n, unixFrom(&ss, sl), nil
}

// WriteTo sends p as one datagram to to. syscall.EAGAIN means the
// receiver's queue is full: re-arm with WouldBlock(fd, Writable).
func (u *UnixgramConn) WriteTo(p []byte, to UnixAddr) (int, error) {
	if to.IsUnnamed() {
		return 0, syscall.EDESTADDRREQ
	}
	if !u.ref.acquire() {
		return 0, ErrClosed
	}
	var ss rawsys.SockaddrStorage
	sl := to.put(&ss)
	n, errno := rawsys.Sendto(u.ref.fd, p, sendFlags, &ss, sl)
	for errno == syscall.EINTR {
		n, errno = rawsys.Sendto(u.ref.fd, p, sendFlags, &ss, sl)
	}
	u.ref.release()
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}
