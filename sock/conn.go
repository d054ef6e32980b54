//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"io"
	"net/netip"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// Conn is a non-blocking stream connection: TCP (Accept, Dial) or Unix
// (DialUnix, Pair). Its I/O methods enter the kernel through rawsys's raw
// stubs and allocate nothing. They never wait: when the kernel has no data
// or no room they return syscall.EAGAIN, and each method's doc says which
// direction to re-arm then with the Selector's method: sel.WouldBlock(c.Fd(),
// selector.Readable) or selector.Writable.
//
// All methods may be called from any goroutine, and Close may race with
// the others: Close waits for the calls in flight and then closes, so no
// call ever reaches the kernel with a number Close released. The zero Conn
// is closed (every call returns ErrClosed); Accept fills one in place. A
// Conn must not be copied (go vet says so): keep it where it was made, or
// in a Slab slot filled by Alloc and Accept.
type Conn struct {
	ref    fdRef
	family int
	peer   netip.AddrPort
	ring   atomic.Pointer[ringSet] // the Selectors of SendRing and RecvRing, if any
}

// Fd returns the descriptor, for Register, or -1 after Close. It stays
// owned by the Conn: do not close it.
func (c *Conn) Fd() int { return c.ref.fdOrMinus1() }

// Read reads into p. It returns the bytes read, io.EOF when the peer has
// shut down writing (or closed) and no data is left, or syscall.EAGAIN
// when nothing is waiting. Re-arm with WouldBlock(fd, Readable) after
// EAGAIN, and after a short read (n < len(p): on a stream socket the
// receive queue is then empty). A reset connection gives
// syscall.ECONNRESET. A zero-length p returns 0, nil without a system
// call. EINTR is retried.
func (c *Conn) Read(p []byte) (int, error) {
	if !c.ref.acquire() {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		c.ref.release()
		return 0, nil
	}
	n, errno := rawsys.Read(c.ref.fd, p)
	for errno == syscall.EINTR {
		n, errno = rawsys.Read(c.ref.fd, p)
	}
	c.ref.release()
	if errno != 0 {
		return 0, errno
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Write writes from p and returns how many bytes the kernel took: all of
// them, fewer (a partial write: keep the rest and send it on the next
// Writable event), or none with syscall.EAGAIN when the send buffer is
// full. Re-arm with WouldBlock(fd, Writable) after a partial write or
// EAGAIN. A write after the peer closed returns syscall.EPIPE (or
// ECONNRESET) and raises no SIGPIPE (MSG_NOSIGNAL; SO_NOSIGPIPE on
// darwin). A zero-length p returns 0, nil without a system call. EINTR is
// retried.
func (c *Conn) Write(p []byte) (int, error) {
	if !c.ref.acquire() {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		c.ref.release()
		return 0, nil
	}
	n, errno := rawsys.Sendto(c.ref.fd, p, sendFlags, nil, 0)
	for errno == syscall.EINTR {
		n, errno = rawsys.Sendto(c.ref.fd, p, sendFlags, nil, 0)
	}
	c.ref.release()
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

// iovFast is the number of buffers Readv and Writev hand to the kernel
// from an array on the stack without further ado; iovChunk is how many go
// per system call beyond that. Both are well below IOV_MAX (1024 on Linux
// and the BSDs), so no call is refused for having too many buffers.
const (
	iovFast  = 16
	iovChunk = 128
)

// Readv reads into bufs in order (scatter), like Read: the total read,
// io.EOF, or syscall.EAGAIN; re-arm with WouldBlock(fd, Readable) after
// EAGAIN or a short read (less than the buffers hold). Empty buffers are
// skipped, and all-empty bufs return 0, nil without a system call.
//
// Any number of buffers may be passed: up to 16 go to one readv on an
// array on the stack; more go 128 at a time, one readv each, stopping at
// the first that is not filled, so the result is that of one readv that
// read less than asked (which a readv may always do). Nothing allocates.
func (c *Conn) Readv(bufs [][]byte) (int, error) {
	if len(bufs) > iovFast {
		return c.readvLarge(bufs)
	}
	if !c.ref.acquire() {
		return 0, ErrClosed
	}
	var iov [iovFast]rawsys.Iovec
	k := 0
	for _, b := range bufs {
		if len(b) > 0 {
			iov[k] = rawsys.MakeIovec(b)
			k++
		}
	}
	if k == 0 {
		c.ref.release()
		return 0, nil
	}
	n, errno := rawsys.Readv(c.ref.fd, iov[:k])
	for errno == syscall.EINTR {
		n, errno = rawsys.Readv(c.ref.fd, iov[:k])
	}
	c.ref.release()
	if errno != 0 {
		return 0, errno
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// packIovecs fills iov with the non-empty buffers at the start of bufs,
// as many as fit, for readvLarge and writevLarge: how many it put in, the
// bytes they hold, and how many of bufs it went through. (Readv and
// Writev, at most iovFast buffers, inline their own loop: the hot path.)
func packIovecs(iov []rawsys.Iovec, bufs [][]byte) (k, want, used int) {
	for ; used < len(bufs) && k < len(iov); used++ {
		if b := bufs[used]; len(b) > 0 {
			iov[k] = rawsys.MakeIovec(b)
			k++
			want += len(b)
		}
	}
	return k, want, used
}

func (c *Conn) readvLarge(bufs [][]byte) (int, error) {
	if !c.ref.acquire() {
		return 0, ErrClosed
	}
	defer c.ref.release()
	var iov [iovChunk]rawsys.Iovec
	total, i := 0, 0
	for i < len(bufs) {
		k, want, used := packIovecs(iov[:], bufs[i:])
		i += used
		if k == 0 {
			break
		}
		n, errno := rawsys.Readv(c.ref.fd, iov[:k])
		for errno == syscall.EINTR {
			n, errno = rawsys.Readv(c.ref.fd, iov[:k])
		}
		switch {
		case errno != 0 && total == 0:
			return 0, errno
		case n == 0 && errno == 0 && total == 0:
			return 0, io.EOF
		case errno != 0 || n == 0:
			return total, nil // EAGAIN or EOF after data: the next call sees it
		}
		total += n
		if n < want {
			break
		}
	}
	return total, nil
}

// Writev writes bufs in order (gather), like Write: the total written
// (fewer bytes than the buffers hold is a partial write) or
// syscall.EAGAIN; re-arm with WouldBlock(fd, Writable) after either. It is
// sendmsg with MSG_NOSIGNAL rather than writev, so that a closed peer gives
// EPIPE and no SIGPIPE. Empty buffers are skipped; all-empty bufs return 0,
// nil without a system call. Any number of buffers may be passed, as for
// Readv: beyond 16, they go 128 per sendmsg, stopping at the first partial
// one. Nothing allocates.
func (c *Conn) Writev(bufs [][]byte) (int, error) {
	if len(bufs) > iovFast {
		return c.writevLarge(bufs)
	}
	if !c.ref.acquire() {
		return 0, ErrClosed
	}
	var iov [iovFast]rawsys.Iovec
	k := 0
	for _, b := range bufs {
		if len(b) > 0 {
			iov[k] = rawsys.MakeIovec(b)
			k++
		}
	}
	if k == 0 {
		c.ref.release()
		return 0, nil
	}
	m := rawsys.MakeMsghdr(nil, 0, iov[:k])
	n, errno := rawsys.Sendmsg(c.ref.fd, &m, sendFlags)
	for errno == syscall.EINTR {
		n, errno = rawsys.Sendmsg(c.ref.fd, &m, sendFlags)
	}
	c.ref.release()
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

func (c *Conn) writevLarge(bufs [][]byte) (int, error) {
	if !c.ref.acquire() {
		return 0, ErrClosed
	}
	defer c.ref.release()
	var iov [iovChunk]rawsys.Iovec
	total, i := 0, 0
	for i < len(bufs) {
		k, want, used := packIovecs(iov[:], bufs[i:])
		i += used
		if k == 0 {
			break
		}
		m := rawsys.MakeMsghdr(nil, 0, iov[:k])
		n, errno := rawsys.Sendmsg(c.ref.fd, &m, sendFlags)
		for errno == syscall.EINTR {
			n, errno = rawsys.Sendmsg(c.ref.fd, &m, sendFlags)
		}
		if errno != 0 {
			if total == 0 {
				return 0, errno
			}
			return total, nil // a partial write: the error shows on the next call
		}
		total += n
		if n < want {
			break
		}
	}
	return total, nil
}

// How selects the direction Shutdown closes.
type How int

// Directions for Shutdown (shutdown(2)'s SHUT_RD, SHUT_WR, SHUT_RDWR).
const (
	ShutRead  How = rawsys.SHUT_RD
	ShutWrite How = rawsys.SHUT_WR
	ShutBoth  How = rawsys.SHUT_RDWR
)

// Shutdown shuts down reading, writing or both (shutdown(2)); the
// descriptor stays open until Close. ShutWrite sends the peer a FIN: it
// reads EOF (and its event reports read-closed) once it has read
// everything before it. A How outside the three gives syscall.EINVAL.
func (c *Conn) Shutdown(how How) error {
	if !c.ref.acquire() {
		return ErrClosed
	}
	errno := rawsys.Shutdown(c.ref.fd, int(how))
	c.ref.release()
	return errnoErr(errno)
}

// Close closes the connection. It is idempotent (a second Close returns
// nil) and safe against concurrent calls: it returns once they have
// finished (none of them can block) and the descriptor is closed, so the
// Conn's storage may then be reused (a Slab slot removed, an Accept into
// it). Deregister the descriptor from its selector before: on poll a
// closed descriptor stays registered, and on epoll one shared with another
// process stays too. A connection that used SendRing or RecvRing is
// deregistered from every Selector they went through here as well, after
// the calls in flight and while its number is still its own: ring requests
// queued for it name it by number. Close itself closes the descriptor, so
// it reports close(2)'s error. After SetLinger
// with a positive time Close may wait that long in the kernel, and tells
// the scheduler.
func (c *Conn) Close() error {
	return c.ref.closeWait(c.endRings)
}

// endRings deregisters the connection from every Selector its ring calls
// went through, for Close: requests queued there name it by number.
// Called when no other call holds the descriptor, so the set is complete.
func (c *Conn) endRings(fd int) {
	if rs := c.ring.Swap(nil); rs != nil {
		for _, sel := range rs.sels {
			sel.Deregister(fd) // submits and ends what is queued for fd; ENOENT if done before
		}
	}
}

// FinishConnect reports the result of Dial's non-blocking connect, to be
// called when the connection's Writable event (or an error or hang-up
// event) arrives: nil once connected; the connect error (read and cleared
// from SO_ERROR: errors.Is(err, syscall.ECONNREFUSED) for a closed port,
// ETIMEDOUT, ENETUNREACH, ...), after which the connection is unusable and
// must be closed; or syscall.EINPROGRESS while the handshake is still
// under way, in which case re-arm with WouldBlock(fd, Writable) and wait
// again.
func (c *Conn) FinishConnect() error {
	if !c.ref.acquire() {
		return ErrClosed
	}
	defer c.ref.release()
	soerr, err := getInt(c.ref.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if soerr != 0 {
		return syscall.Errno(soerr)
	}
	var ss rawsys.SockaddrStorage
	n := uint32(unsafe.Sizeof(ss))
	switch errno := rawsys.Getpeername(c.ref.fd, &ss, &n); errno {
	case 0:
		return nil
	case syscall.ENOTCONN:
		return syscall.EINPROGRESS
	default:
		return errno
	}
}

// withFd runs f on the descriptor while holding a reference.
func (c *Conn) withFd(f func(fd int) error) error {
	if !c.ref.acquire() {
		return ErrClosed
	}
	defer c.ref.release()
	return f(c.ref.fd)
}

// SetNoDelay sets TCP_NODELAY: with it on, small writes go out at once
// instead of waiting for the previous segment's ACK (Nagle). Not for Unix
// sockets (the kernel refuses).
func (c *Conn) SetNoDelay(on bool) error {
	return c.withFd(func(fd int) error { return setInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(on)) })
}

// SetKeepAlive sets SO_KEEPALIVE, with the system's keep-alive timing.
func (c *Conn) SetKeepAlive(on bool) error {
	return c.withFd(func(fd int) error { return setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, boolInt(on)) })
}

// SetLinger sets SO_LINGER, as package net's SetLinger does. sec < 0
// turns it off (the default: Close returns at once and the kernel sends
// what is queued in the background). sec == 0 makes Close discard unsent
// data and reset the connection (RST). sec > 0 makes Close wait up to sec
// seconds for queued data to be sent; such a Close tells the scheduler,
// since it can sleep.
func (c *Conn) SetLinger(sec int) error {
	return c.withFd(func(fd int) error {
		l := unix.Linger{}
		if sec >= 0 {
			l.Onoff, l.Linger = 1, int32(min(sec, 1<<31-1))
		}
		if errno := rawsys.Setsockopt(fd, unix.SOL_SOCKET, unix.SO_LINGER, unsafe.Pointer(&l), uint32(unsafe.Sizeof(l))); errno != 0 {
			return errno
		}
		c.ref.linger.Store(l.Onoff == 1 && l.Linger > 0)
		return nil
	})
}

// SetSendBuffer sets SO_SNDBUF (the kernel may double or round it).
func (c *Conn) SetSendBuffer(bytes int) error {
	return c.withFd(func(fd int) error { return setInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, bytes) })
}

// SetRecvBuffer sets SO_RCVBUF.
func (c *Conn) SetRecvBuffer(bytes int) error {
	return c.withFd(func(fd int) error { return setInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, bytes) })
}

// LocalAddr returns the connection's own address (getsockname), or the
// zero AddrPort for a Unix socket or a closed Conn.
func (c *Conn) LocalAddr() netip.AddrPort {
	if !c.ref.acquire() {
		return netip.AddrPort{}
	}
	defer c.ref.release()
	return sockName(c.ref.fd, false)
}

// PeerAddr returns the peer's address, as Accept returned it or as given
// to Dial (IPv4-mapped addresses unmapped); the zero AddrPort for a Unix
// socket.
func (c *Conn) PeerAddr() netip.AddrPort { return c.peer }
