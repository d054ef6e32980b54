//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// UDPConn is a non-blocking UDP socket: bound and unconnected
// (ListenUDP: ReadFrom, WriteTo, ReadBatch, WriteBatch) or connected
// (DialUDP: Read and Write as well). Addresses are netip.AddrPort values
// and nothing allocates per datagram. Concurrency and Close are as for
// Conn.
type UDPConn struct {
	ref    fdRef
	family int
	dual   bool
	peer   netip.AddrPort

	scratchBusy atomic.Bool  // set by the batch call using scratch
	scratch     *batchArrays // the connection's own, made by its first batch call
}

// batchArrays are the headers, iovecs and addresses of a batch call. On
// the stack they would be zeroed on every call (3.4 KiB: more user-space
// instructions than the rest of a 4-message batch, bench-instr's
// Recvmmsg4x64 and Sendmmsg4x64 rows), so each connection keeps its own,
// made by its first batch call; a call that finds them in use (another
// goroutine's batch on the same connection) takes a set from batchPool,
// which allocates only when empty.
type batchArrays struct {
	hdrs  [batchChunk]rawsys.Mmsghdr
	iov   [batchChunk]rawsys.Iovec
	names [batchChunk]rawsys.RawSockaddrInet6
	// prepared says every hdrs[i] points at names[i] and at iov[i] alone,
	// without control data, so that a call sets only the buffers and the
	// name lengths: the kernel writes back msg_namelen, msg_controllen
	// (0 stays 0) and msg_flags, which it does not read (recvmmsg(2),
	// sendmmsg(2)). A WriteBatch message without an address clears its
	// name pointer, and prepared with it.
	prepared bool
}

// prepare points every header at its name and iovec.
func (a *batchArrays) prepare() {
	for i := range a.hdrs {
		a.hdrs[i].Hdr = rawsys.MakeMsghdr(unsafe.Pointer(&a.names[i]), rawsys.SizeofSockaddrInet6, a.iov[i:i+1])
	}
	a.prepared = true
}

var batchPool = sync.Pool{New: func() any { return new(batchArrays) }}

// arrays takes the batch arrays for one call, the connection's own when
// they are free; done gives them back. An atomic flag, not a mutex, and
// both inline, the rare cases out of line: 60 instructions a call fewer
// than TryLock and Unlock (make bench-instr, Recvmmsg4x64).
func (u *UDPConn) arrays() (a *batchArrays, own bool) {
	if u.scratchBusy.CompareAndSwap(false, true) {
		if a = u.scratch; a == nil {
			a = u.newScratch()
		}
		return a, true
	}
	return poolArrays(), false
}

//go:noinline
func (u *UDPConn) newScratch() *batchArrays {
	u.scratch = new(batchArrays) // once per connection, under scratchBusy
	return u.scratch
}

//go:noinline
func poolArrays() *batchArrays { return batchPool.Get().(*batchArrays) }

func (u *UDPConn) done(a *batchArrays, own bool) {
	if own {
		u.scratchBusy.Store(false)
		return
	}
	poolPut(a)
}

//go:noinline
func poolPut(a *batchArrays) { batchPool.Put(a) }

// ListenUDP creates a UDP socket bound to addr (port 0 picks one; read it
// with LocalAddr). Options: ReuseAddr, ReusePort, DualStack.
func ListenUDP(addr netip.AddrPort, opts ...Option) (*UDPConn, error) {
	return newUDP(addr, netip.AddrPort{}, opts)
}

// DialUDP creates a UDP socket connected to raddr (connect(2) on a
// datagram socket only sets the default destination and filters what is
// received: it does not wait), bound to an address the kernel picks.
func DialUDP(raddr netip.AddrPort, opts ...Option) (*UDPConn, error) {
	return newUDP(netip.AddrPort{}, raddr, opts)
}

func newUDP(laddr, raddr netip.AddrPort, opts []Option) (*UDPConn, error) {
	cfg := newConfig(opts)
	op, a := "listen udp", laddr
	if raddr.IsValid() {
		op, a = "dial udp", raddr
	}
	fam, ok := familyOf(a.Addr())
	if !ok {
		return nil, opErr(op, a.String(), ErrFamily)
	}
	fd, err := socket(fam, unix.SOCK_DGRAM)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*UDPConn, error) {
		unix.Close(fd)
		return nil, err
	}
	if err := cfg.applyBind(fd, fam, false); err != nil {
		return fail(err)
	}
	if laddr.IsValid() {
		if err := bindAddr(fd, fam, laddr, cfg.dualStack); err != nil {
			return fail(err)
		}
	}
	u := &UDPConn{family: fam, dual: cfg.dualStack}
	if raddr.IsValid() {
		var ss rawsys.SockaddrStorage
		sl, err := putStorage(&ss, fam, cfg.dualStack, raddr)
		if err == nil {
			err = errnoErr(rawsys.Connect(fd, &ss, sl))
		}
		if err != nil {
			return fail(opErr(op, raddr.String(), err))
		}
		u.peer = netip.AddrPortFrom(raddr.Addr().Unmap(), raddr.Port())
	}
	u.ref.init(fd)
	return u, nil
}

// Fd returns the descriptor, for Register, or -1 after Close.
func (u *UDPConn) Fd() int { return u.ref.fdOrMinus1() }

// Close closes the socket; idempotent, as Conn.Close.
func (u *UDPConn) Close() error { return u.ref.closeWait(nil) }

// LocalAddr returns the bound address (getsockname).
func (u *UDPConn) LocalAddr() netip.AddrPort {
	if !u.ref.acquire() {
		return netip.AddrPort{}
	}
	defer u.ref.release()
	return sockName(u.ref.fd, false)
}

// PeerAddr returns the address a DialUDP socket is connected to, or the
// zero AddrPort.
func (u *UDPConn) PeerAddr() netip.AddrPort { return u.peer }

// SetRecvBuffer sets SO_RCVBUF, the receive queue a burst must fit in.
func (u *UDPConn) SetRecvBuffer(bytes int) error {
	if !u.ref.acquire() {
		return ErrClosed
	}
	defer u.ref.release()
	return setInt(u.ref.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, bytes)
}

// SetSendBuffer sets SO_SNDBUF.
func (u *UDPConn) SetSendBuffer(bytes int) error {
	if !u.ref.acquire() {
		return ErrClosed
	}
	defer u.ref.release()
	return setInt(u.ref.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, bytes)
}

// Read receives one datagram into p (a longer one is truncated to
// len(p)) and returns its length; a zero-length datagram gives 0, nil.
// With nothing waiting it returns syscall.EAGAIN: re-arm with
// WouldBlock(fd, Readable). An ICMP error for an earlier send on a
// connected socket comes back as its errno (ECONNREFUSED).
func (u *UDPConn) Read(p []byte) (int, error) { return recvOne(&u.ref, p) }

// Write sends p as one datagram to the connected peer. syscall.EAGAIN
// means the send buffer is full: re-arm with WouldBlock(fd, Writable). On
// an unconnected socket it fails with syscall.EDESTADDRREQ.
func (u *UDPConn) Write(p []byte) (int, error) { return sendOne(&u.ref, p) }

func recvOne(r *fdRef, p []byte) (int, error) {
	if !r.acquire() {
		return 0, ErrClosed
	}
	n, errno := rawsys.Recvfrom(r.fd, p, 0, nil, nil)
	for errno == syscall.EINTR {
		n, errno = rawsys.Recvfrom(r.fd, p, 0, nil, nil)
	}
	r.release()
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

func sendOne(r *fdRef, p []byte) (int, error) {
	if !r.acquire() {
		return 0, ErrClosed
	}
	n, errno := rawsys.Sendto(r.fd, p, sendFlags, nil, 0)
	for errno == syscall.EINTR {
		n, errno = rawsys.Sendto(r.fd, p, sendFlags, nil, 0)
	}
	r.release()
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

// ReadFrom receives one datagram into p and returns its length and
// sender. With nothing waiting it returns syscall.EAGAIN: re-arm with
// WouldBlock(fd, Readable).
func (u *UDPConn) ReadFrom(p []byte) (int, netip.AddrPort, error) {
	if !u.ref.acquire() {
		return 0, netip.AddrPort{}, ErrClosed
	}
	var ss rawsys.SockaddrStorage
	n, sl, errno := recvFrom(u.ref.fd, p, &ss)
	u.ref.release()
	if errno != 0 {
		return 0, netip.AddrPort{}, errno
	}
	return n, fromSockaddr(ss.Inet6(), sl), nil
}

// WriteTo sends p as one datagram to addr. An address of the other family
// gives ErrFamily (an IPv4 address on an IPv6 socket is sent IPv4-mapped
// when the socket is DualStack); a connected socket gives
// syscall.EISCONN. syscall.EAGAIN means the send buffer is full: re-arm
// with WouldBlock(fd, Writable).
func (u *UDPConn) WriteTo(p []byte, addr netip.AddrPort) (int, error) {
	if u.peer.IsValid() {
		return 0, syscall.EISCONN
	}
	var ss rawsys.SockaddrStorage
	sl, err := putStorage(&ss, u.family, u.dual, addr)
	if err != nil {
		return 0, err
	}
	if !u.ref.acquire() {
		return 0, ErrClosed
	}
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

// Message is one datagram of a batch. The slice of Messages and every
// Buf belong to the caller, who reuses them from batch to batch: the
// batch calls allocate nothing.
type Message struct {
	// Buf is where ReadBatch stores the datagram (a longer one is
	// truncated), or what WriteBatch sends.
	Buf []byte
	// N is the length ReadBatch received, or what WriteBatch sent.
	N int
	// Addr is the sender (ReadBatch), or the destination (WriteBatch;
	// leave it zero on a connected socket).
	Addr netip.AddrPort
	// Truncated reports that the datagram was longer than Buf (ReadBatch).
	Truncated bool
}

// batchChunk is how many messages one recvmmsg or sendmmsg takes, with
// its headers, iovecs and addresses in arrays on the stack (3.4 KiB). The
// headers point into the other two arrays and into the caller's buffers;
// all of them are live for the call (the stubs are //go:noescape, so the
// arrays stay on this goroutine's stack, which does not move during it).
const batchChunk = 32

// ReadBatch receives up to len(ms) datagrams, one per Message, with
// recvmmsg (a loop of recvmsg on darwin, FreeBSD and DragonFly): 32 per
// system call, filling ms in order, and returns how many it received.
// When nothing is waiting it returns 0, syscall.EAGAIN. When it returns
// fewer than len(ms) the receive queue is empty: re-arm with
// WouldBlock(fd, Readable) then, as after EAGAIN. An error after the
// first datagram is reported by the next call.
func (u *UDPConn) ReadBatch(ms []Message) (int, error) {
	if !u.ref.acquire() {
		return 0, ErrClosed
	}
	a, own := u.arrays()
	n, err := u.readBatch(ms, a)
	u.done(a, own)
	u.ref.release()
	return n, err
}

func (u *UDPConn) readBatch(ms []Message, a *batchArrays) (int, error) {
	if !a.prepared {
		a.prepare()
	}
	hdrs, iov, names := &a.hdrs, &a.iov, &a.names
	total := 0
	for total < len(ms) {
		k := min(len(ms)-total, batchChunk)
		// Subslices of equal length, so that the compiler proves every
		// index in range (bounds checks were a third of the loops).
		want := ms[total : total+k]
		iv, hs := iov[:len(want)], hdrs[:len(want)]
		for i := range want {
			iv[i] = rawsys.MakeIovec(want[i].Buf)
			hs[i].Hdr.Namelen = rawsys.SizeofSockaddrInet6
		}
		n, errno := rawsys.Recvmmsg(u.ref.fd, hdrs[:k], 0)
		for errno == syscall.EINTR {
			n, errno = rawsys.Recvmmsg(u.ref.fd, hdrs[:k], 0)
		}
		if errno != 0 {
			if total > 0 {
				break
			}
			return 0, errno
		}
		got := ms[total : total+n]
		hs, ns := hdrs[:len(got)], names[:len(got)]
		for i := range got {
			m, h := &got[i], &hs[i]
			m.N = int(h.Len)
			if s4 := (*rawsys.RawSockaddrInet4)(unsafe.Pointer(&ns[i])); int(s4.Family) == rawsys.AF_INET && h.Hdr.Namelen >= rawsys.SizeofSockaddrInet4 {
				// fromSockaddr's IPv4 case, inline: 30 instructions a
				// message fewer (it does not fit the inlining budget).
				m.Addr = netip.AddrPortFrom(netip.AddrFrom4(s4.Addr), uint16(s4.Port[0])<<8|uint16(s4.Port[1]))
			} else {
				m.Addr = fromSockaddr(&ns[i], h.Hdr.Namelen)
			}
			m.Truncated = h.Hdr.Flags&unix.MSG_TRUNC != 0
		}
		total += n
		if n < k {
			break
		}
	}
	return total, nil
}

// WriteBatch sends ms[i].Buf to ms[i].Addr for each message, with
// sendmmsg (a loop of sendmsg on darwin, FreeBSD and DragonFly), 32 per
// system call, setting each sent message's N, and returns how many were
// sent. Fewer than len(ms) means the send buffer filled (re-arm with
// WouldBlock(fd, Writable) and send the rest later) or that the next
// message has a bad address or failed, which the next call reports. An
// error is returned only when the first message cannot be sent: its
// address's ErrFamily, or syscall.EAGAIN.
func (u *UDPConn) WriteBatch(ms []Message) (int, error) {
	if !u.ref.acquire() {
		return 0, ErrClosed
	}
	a, own := u.arrays()
	n, err := u.writeBatch(ms, a)
	u.done(a, own)
	u.ref.release()
	return n, err
}

func (u *UDPConn) writeBatch(ms []Message, a *batchArrays) (int, error) {
	if !a.prepared {
		a.prepare()
	}
	hdrs, iov, names := &a.hdrs, &a.iov, &a.names
	connected := u.peer.IsValid()
	total := 0
	for total < len(ms) {
		k := min(len(ms)-total, batchChunk)
		want := ms[total : total+k] // equal lengths: no bounds checks, as in readBatch
		iv, hs, ns := iov[:len(want)], hdrs[:len(want)], names[:len(want)]
		for i := range want {
			m, h := &want[i], &hs[i].Hdr
			iv[i] = rawsys.MakeIovec(m.Buf)
			if connected && !m.Addr.IsValid() {
				// The socket's peer: no name. NULL, not a length of 0,
				// which the BSDs refuse (EINVAL from getsockaddr).
				h.Name, h.Namelen = nil, 0
				a.prepared = false
				continue
			}
			if ip := m.Addr.Addr(); u.family == rawsys.AF_INET && ip.Is4() {
				// putAddr's IPv4 case, inline (putAddr does not fit the
				// inlining budget): 30 instructions a message fewer.
				*(*rawsys.RawSockaddrInet4)(unsafe.Pointer(&ns[i])) = rawsys.MakeSockaddrInet4(ip.As4(), m.Addr.Port())
				h.Namelen = rawsys.SizeofSockaddrInet4
			} else if nl, err := putAddr(&ns[i], u.family, u.dual, m.Addr); err == nil {
				h.Namelen = nl
			} else {
				if total+i == 0 {
					return 0, err
				}
				k = i // send what precedes the bad address
				break
			}
			if h.Name == nil {
				h.Name = (*byte)(unsafe.Pointer(&ns[i]))
			}
		}
		if k == 0 {
			break
		}
		n, errno := rawsys.Sendmmsg(u.ref.fd, hdrs[:k], sendFlags)
		for errno == syscall.EINTR {
			n, errno = rawsys.Sendmmsg(u.ref.fd, hdrs[:k], sendFlags)
		}
		if errno != 0 {
			if total > 0 {
				break
			}
			return 0, errno
		}
		sent := ms[total : total+n]
		for i := range sent {
			sent[i].N = int(hdrs[i].Len)
		}
		total += n
		if n < k || k < batchChunk && total < len(ms) {
			break
		}
	}
	return total, nil
}
