//go:build amd64 || arm64

package bench

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/sock"
)

// The socket calls of package sock against golang.org/x/sys/unix. In
// every row impl=rawsys is sock's public call (what a server on rawpoll
// runs), impl=stub the bare rawsys stub where that differs, and impl=xsys
// the same work through x/sys. Where a row needs a counterpart (a drain
// after a write, a fill before a read), it is the same raw call for every
// impl, so that the difference between impls is the call under test.

// sockPair is a non-blocking Unix stream pair from sock, closed after b.
func sockPair(b *testing.B) (*sock.Conn, *sock.Conn) {
	b.Helper()
	x, y, err := sock.Pair()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { x.Close(); y.Close() })
	return x, y
}

func fourBy64() (flat []byte, bufs [][]byte, iov []rawsys.Iovec) {
	flat = make([]byte, 256)
	bufs = [][]byte{flat[:64], flat[64:128], flat[128:192], flat[192:]}
	iov = make([]rawsys.Iovec, 4)
	for i := range bufs {
		iov[i] = rawsys.MakeIovec(bufs[i])
	}
	return
}

// BenchmarkWritev4x64: gather-write 4 x 64 B into a Unix stream pair, then
// drain the 256 B with one raw read (the same for every impl). rawsys is
// sock's Writev (sendmsg with MSG_NOSIGNAL, from [][]byte), stub the bare
// writev stub on prebuilt iovecs, xsys unix.Writev.
func BenchmarkWritev4x64(b *testing.B) {
	r := impls(b)
	defer r.done()
	_, bufs, iov := fourBy64()
	drain := make([]byte, 512)
	r.run("impl=rawsys", func(b *testing.B) {
		w, rd := sockPair(b)
		rfd := rd.Fd()
		b.ReportAllocs()
		for b.Loop() {
			if n, err := w.Writev(bufs); n != 256 || err != nil {
				b.Fatal(n, err)
			}
			if n, _ := rawsys.Read(rfd, drain); n != 256 {
				b.Fatal(n)
			}
		}
	})
	r.run("impl=stub", func(b *testing.B) {
		sp := mustSocketpair(b)
		b.ReportAllocs()
		for b.Loop() {
			if n, errno := rawsys.Writev(sp[0], iov); n != 256 || errno != 0 {
				b.Fatal(n, errno)
			}
			if n, _ := rawsys.Read(sp[1], drain); n != 256 {
				b.Fatal(n)
			}
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		sp := mustSocketpair(b)
		b.ReportAllocs()
		for b.Loop() {
			if n, err := unix.Writev(sp[0], bufs); n != 256 || err != nil {
				b.Fatal(n, err)
			}
			if n, _ := rawsys.Read(sp[1], drain); n != 256 {
				b.Fatal(n)
			}
		}
	})
}

// BenchmarkReadv4x64: fill a Unix stream pair with 256 B by one raw write
// (the same for every impl), then scatter-read it into 4 x 64 B.
func BenchmarkReadv4x64(b *testing.B) {
	r := impls(b)
	defer r.done()
	_, bufs, iov := fourBy64()
	fill := make([]byte, 256)
	r.run("impl=rawsys", func(b *testing.B) {
		w, rd := sockPair(b)
		wfd := w.Fd()
		b.ReportAllocs()
		for b.Loop() {
			rawsys.Write(wfd, fill)
			if n, err := rd.Readv(bufs); n != 256 || err != nil {
				b.Fatal(n, err)
			}
		}
	})
	r.run("impl=stub", func(b *testing.B) {
		sp := mustSocketpair(b)
		b.ReportAllocs()
		for b.Loop() {
			rawsys.Write(sp[0], fill)
			if n, errno := rawsys.Readv(sp[1], iov); n != 256 || errno != 0 {
				b.Fatal(n, errno)
			}
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		sp := mustSocketpair(b)
		b.ReportAllocs()
		for b.Loop() {
			rawsys.Write(sp[0], fill)
			if n, err := unix.Readv(sp[1], bufs); n != 256 || err != nil {
				b.Fatal(n, err)
			}
		}
	})
}

// udpPairFds returns two bound non-blocking UDP sockets on 127.0.0.1 and
// the second's address, closed after b.
func udpPairFds(b *testing.B) (a, c int, cAddr netip.AddrPort) {
	b.Helper()
	bind := func() (int, netip.AddrPort) {
		u, err := sock.ListenUDP(netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { u.Close() })
		u.SetRecvBuffer(1 << 20)
		u.SetSendBuffer(1 << 20)
		return u.Fd(), u.LocalAddr()
	}
	a, _ = bind()
	c, cAddr = bind()
	return
}

const batch = 16

// rawBatch is a prebuilt recvmmsg/sendmmsg vector of 16 x 64 B for the
// counterpart calls; names, when set, all hold dst.
type rawBatch struct {
	hdrs  [batch]rawsys.Mmsghdr
	iov   [batch]rawsys.Iovec
	names [batch]rawsys.SockaddrStorage
	bufs  [batch][64]byte
}

func newRawBatch(dst netip.AddrPort) *rawBatch {
	rb := &rawBatch{}
	for i := range rb.hdrs {
		rb.iov[i] = rawsys.MakeIovec(rb.bufs[i][:])
		var name unsafe.Pointer
		var nl uint32
		if dst.IsValid() {
			nl = rb.names[i].SetInet4(dst.Addr().As4(), dst.Port())
			name = unsafe.Pointer(&rb.names[i])
		}
		rb.hdrs[i].Hdr = rawsys.MakeMsghdr(name, nl, rb.iov[i:i+1])
	}
	return rb
}

// recvAll receives exactly 16 datagrams with raw recvmmsg (spinning on
// EAGAIN: loopback delivery is synchronous, so it hardly ever spins).
func (rb *rawBatch) recvAll(b *testing.B, fd int) {
	for got := 0; got < batch; {
		n, errno := rawsys.Recvmmsg(fd, rb.hdrs[got:], 0)
		if errno == syscall.EAGAIN {
			continue
		}
		if errno != 0 {
			b.Fatal(errno)
		}
		got += n
	}
}

func (rb *rawBatch) sendAll(b *testing.B, fd int) {
	for sent := 0; sent < batch; {
		n, errno := rawsys.Sendmmsg(fd, rb.hdrs[sent:], 0)
		if errno != 0 {
			b.Fatal(errno)
		}
		sent += n
	}
}

// xsysMmsg is the x/sys way to a batch: x/sys has no Sendmmsg or Recvmmsg
// wrapper, so the call is unix.Syscall6 with x/sys's own Mmsghdr, which
// tells the scheduler like every x/sys call.
func xsysMmsg(trap uintptr, fd int, hdrs []unix.Mmsghdr, flags int) (int, syscall.Errno) {
	r, _, errno := unix.Syscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), uintptr(flags), 0, 0)
	return int(r), errno
}

func newXsysBatch(dst netip.AddrPort) ([]unix.Mmsghdr, *rawBatch) {
	rb := newRawBatch(dst) // the buffers and names; x/sys's Mmsghdr has the same layout
	hdrs := make([]unix.Mmsghdr, batch)
	for i := range hdrs {
		hdrs[i].Hdr.Iov = (*unix.Iovec)(unsafe.Pointer(&rb.iov[i]))
		hdrs[i].Hdr.Iovlen = 1
		if dst.IsValid() {
			hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&rb.names[i]))
			hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
		}
	}
	return hdrs, rb
}

// BenchmarkSendmmsg16x64: send 16 datagrams of 64 B to one address in one
// call, then receive them with one raw recvmmsg (the same for every impl).
// rawsys is sock's WriteBatch (Messages with netip.AddrPort addresses),
// stub the bare sendmmsg stub on a prebuilt vector, xsys unix.Syscall6
// (SYS_SENDMMSG: x/sys has no wrapper) with each destination encoded from
// a netip.AddrPort as WriteBatch does, xsys-loop 16 calls of unix.Sendto,
// the x/sys API.
func BenchmarkSendmmsg16x64(b *testing.B) {
	r := impls(b)
	defer r.done()
	payload := make([]byte, 64)
	r.run("impl=rawsys", func(b *testing.B) {
		u, err := sock.ListenUDP(netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			b.Fatal(err)
		}
		defer u.Close()
		_, c, cAddr := udpPairFds(b)
		ms := make([]sock.Message, batch)
		for i := range ms {
			ms[i] = sock.Message{Buf: payload, Addr: cAddr}
		}
		in := newRawBatch(netip.AddrPort{})
		b.ReportAllocs()
		for b.Loop() {
			for sent := 0; sent < batch; {
				n, err := u.WriteBatch(ms[sent:])
				if err != nil {
					b.Fatal(err)
				}
				sent += n
			}
			in.recvAll(b, c)
		}
	})
	r.run("impl=stub", func(b *testing.B) {
		a, c, cAddr := udpPairFds(b)
		out, in := newRawBatch(cAddr), newRawBatch(netip.AddrPort{})
		b.ReportAllocs()
		for b.Loop() {
			out.sendAll(b, a)
			in.recvAll(b, c)
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		a, c, cAddr := udpPairFds(b)
		hdrs, rb := newXsysBatch(cAddr)
		in := newRawBatch(netip.AddrPort{})
		dsts := make([]netip.AddrPort, batch)
		for i := range dsts {
			dsts[i] = cAddr
		}
		b.ReportAllocs()
		for b.Loop() {
			// The same work as WriteBatch: each message's destination
			// encoded from its netip.AddrPort.
			for i, d := range dsts {
				sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rb.names[i]))
				*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: d.Addr().As4()}
				p := (*[2]byte)(unsafe.Pointer(&sa.Port))
				p[0], p[1] = byte(d.Port()>>8), byte(d.Port())
				hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(sa))
				hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
			}
			for sent := 0; sent < batch; {
				n, errno := xsysMmsg(unix.SYS_SENDMMSG, a, hdrs[sent:], 0)
				if errno != 0 {
					b.Fatal(errno)
				}
				sent += n
			}
			in.recvAll(b, c)
		}
	})
	r.run("impl=xsys-loop", func(b *testing.B) {
		a, c, cAddr := udpPairFds(b)
		to := &unix.SockaddrInet4{Addr: cAddr.Addr().As4(), Port: int(cAddr.Port())}
		in := newRawBatch(netip.AddrPort{})
		b.ReportAllocs()
		for b.Loop() {
			for range batch {
				if err := unix.Sendto(a, payload, 0, to); err != nil {
					b.Fatal(err)
				}
			}
			in.recvAll(b, c)
		}
	})
}

// BenchmarkRecvmmsg16x64: send 16 datagrams of 64 B with one raw sendmmsg
// (the same for every impl), then receive them, with their senders, in
// one call. rawsys is sock's ReadBatch (sender as netip.AddrPort), stub
// the bare recvmmsg stub (senders left raw), xsys
// unix.Syscall6(SYS_RECVMMSG) with each sender decoded into a
// netip.AddrPort as ReadBatch does, xsys-loop 16 calls of unix.Recvfrom.
func BenchmarkRecvmmsg16x64(b *testing.B) {
	r := impls(b)
	defer r.done()
	r.run("impl=rawsys", func(b *testing.B) {
		a, _, _ := udpPairFds(b)
		u, err := sock.ListenUDP(netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			b.Fatal(err)
		}
		defer u.Close()
		u.SetRecvBuffer(1 << 20)
		out := newRawBatch(u.LocalAddr())
		ms := make([]sock.Message, batch)
		for i := range ms {
			ms[i].Buf = make([]byte, 64)
		}
		b.ReportAllocs()
		for b.Loop() {
			out.sendAll(b, a)
			for got := 0; got < batch; {
				n, err := u.ReadBatch(ms[got:])
				if err == syscall.EAGAIN {
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				got += n
			}
		}
		sink = uint64(ms[batch-1].Addr.Port())
	})
	r.run("impl=stub", func(b *testing.B) {
		a, c, cAddr := udpPairFds(b)
		out, in := newRawBatch(cAddr), newRawBatch(netip.AddrPort{})
		for i := range in.hdrs {
			in.hdrs[i].Hdr = rawsys.MakeMsghdr(unsafe.Pointer(&in.names[i]), uint32(unsafe.Sizeof(in.names[i])), in.iov[i:i+1])
		}
		b.ReportAllocs()
		for b.Loop() {
			out.sendAll(b, a)
			for i := range in.hdrs {
				in.hdrs[i].Hdr.Namelen = uint32(unsafe.Sizeof(in.names[i]))
			}
			in.recvAll(b, c)
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		a, c, cAddr := udpPairFds(b)
		out := newRawBatch(cAddr)
		hdrs, in := newXsysBatch(netip.AddrPort{})
		var from netip.AddrPort
		b.ReportAllocs()
		for b.Loop() {
			out.sendAll(b, a)
			for i := range hdrs {
				hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&in.names[i]))
				hdrs[i].Hdr.Namelen = uint32(unsafe.Sizeof(in.names[i]))
			}
			for got := 0; got < batch; {
				n, errno := xsysMmsg(unix.SYS_RECVMMSG, c, hdrs[got:], 0)
				if errno == syscall.EAGAIN {
					continue
				}
				if errno != 0 {
					b.Fatal(errno)
				}
				got += n
			}
			// The same work as ReadBatch: each sender decoded into a
			// netip.AddrPort.
			for i := range hdrs {
				sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&in.names[i]))
				p := (*[2]byte)(unsafe.Pointer(&sa.Port))
				from = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
			}
		}
		sink = uint64(from.Port())
	})
	r.run("impl=xsys-loop", func(b *testing.B) {
		a, c, cAddr := udpPairFds(b)
		out := newRawBatch(cAddr)
		buf := make([]byte, 64)
		b.ReportAllocs()
		for b.Loop() {
			out.sendAll(b, a)
			for got := 0; got < batch; {
				_, from, err := unix.Recvfrom(c, buf, 0)
				if err == unix.EAGAIN {
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				sink += uint64(from.(*unix.SockaddrInet4).Port)
				got++
			}
		}
	})
}

// BenchmarkAccept4: accept one queued connection. Connections are queued
// 128 at a time with the timer stopped, and the accepted ones closed
// likewise, so a run measures the accepts alone. rawsys is sock's
// Listener.Accept (into a Conn, the peer as netip.AddrPort), stub the bare
// accept4 stub, xsys unix.Accept4 (which returns the peer as an allocated
// unix.Sockaddr).
func BenchmarkAccept4(b *testing.B) {
	r := impls(b)
	defer r.done()
	r.run("impl=rawsys", func(b *testing.B) {
		var conns [acceptQueue]sock.Conn
		acceptBench(b, func(l *sock.Listener, i int) bool {
			_, err := l.Accept(&conns[i])
			if err != nil && err != syscall.EAGAIN {
				b.Fatal(err)
			}
			return err == nil
		}, func() {
			for i := range conns {
				conns[i].Close()
			}
		})
	})
	r.run("impl=stub", func(b *testing.B) {
		var fds [acceptQueue]int
		acceptBench(b, func(l *sock.Listener, i int) bool {
			var sa rawsys.SockaddrStorage
			n := uint32(unsafe.Sizeof(sa))
			fd, errno := rawsys.Accept4(l.Fd(), &sa, &n, rawsys.SOCK_NONBLOCK|rawsys.SOCK_CLOEXEC)
			fds[i] = fd
			return errno == 0
		}, func() {
			for i, fd := range fds {
				if fd > 0 {
					rawsys.Close(fd)
				}
				fds[i] = 0
			}
		})
	})
	r.run("impl=xsys", func(b *testing.B) {
		var fds [acceptQueue]int
		acceptBench(b, func(l *sock.Listener, i int) bool {
			fd, sa, err := unix.Accept4(l.Fd(), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			if err != nil {
				return false
			}
			sink += uint64(sa.(*unix.SockaddrInet4).Port)
			fds[i] = fd
			return true
		}, func() {
			for i, fd := range fds {
				if fd > 0 {
					unix.Close(fd)
				}
				fds[i] = 0
			}
		})
	})
}

const acceptQueue = 128

// acceptBench runs accept(l, i) once per op on a listener whose queue is
// refilled with acceptQueue connections (and closeAll run) with the timer
// stopped. accept returns false when the connection is not queued yet (a
// handshake can lag its connect for a moment) and is called again.
func acceptBench(b *testing.B, accept func(l *sock.Listener, i int) bool, closeAll func()) {
	l, err := sock.Listen(netip.MustParseAddrPort("127.0.0.1:0"), sock.Backlog(4096))
	if err != nil {
		b.Fatal(err)
	}
	var laddr rawsys.SockaddrStorage
	llen := laddr.SetInet4([4]byte{127, 0, 0, 1}, l.Addr().Port())
	var clients [acceptQueue]int
	nclients := 0
	closeClients := func() {
		for _, fd := range clients[:nclients] {
			rawsys.Close(fd)
		}
		nclients = 0
	}
	b.Cleanup(func() {
		closeAll()
		closeClients()
		l.Close()
	})
	b.ReportAllocs()
	i := acceptQueue
	for b.Loop() {
		if i == acceptQueue {
			b.StopTimer()
			closeAll()
			closeClients()
			for j := range clients {
				fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
				if err != nil {
					b.Fatal(err)
				}
				clients[j], nclients = fd, j+1
				if errno := rawsys.Connect(fd, &laddr, llen); errno != 0 && errno != syscall.EINPROGRESS {
					b.Fatal(errno)
				}
			}
			i = 0
			b.StartTimer()
		}
		for !accept(l, i) {
		}
		i++
	}
}

// BenchmarkConnReadWrite64: write 64 B on one end of a loopback TCP
// connection and read it on the other. rawsys is sock.Conn (sendto with
// MSG_NOSIGNAL, read), xsys unix.Write and unix.Read on the same kind of
// connection, net a *net.TCPConn from package net (through Go's poller,
// which is what a sock.Conn replaces).
func BenchmarkConnReadWrite64(b *testing.B) {
	r := impls(b)
	defer r.done()
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	// tcpPair returns a connected pair of sock Conns on 127.0.0.1.
	tcpPair := func(b *testing.B) (*sock.Conn, *sock.Conn) {
		l, err := sock.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		c, err := sock.Dial(l.Addr())
		if err != nil {
			b.Fatal(err)
		}
		s := new(sock.Conn)
		for {
			if _, err := l.Accept(s); err == nil {
				break
			} else if err != syscall.EAGAIN {
				b.Fatal(err)
			}
		}
		for c.FinishConnect() != nil {
		}
		c.SetNoDelay(true)
		s.SetNoDelay(true)
		b.Cleanup(func() { c.Close(); s.Close() })
		return c, s
	}
	r.run("impl=rawsys", func(b *testing.B) {
		w, rd := tcpPair(b)
		b.ReportAllocs()
		for b.Loop() {
			if n, err := w.Write(msg); n != 64 || err != nil {
				b.Fatal(n, err)
			}
			for got := 0; got < 64; {
				n, err := rd.Read(buf[got:])
				if err != nil && err != syscall.EAGAIN {
					b.Fatal(err)
				}
				got += n
			}
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		w, rd := tcpPair(b)
		wfd, rfd := w.Fd(), rd.Fd()
		b.ReportAllocs()
		for b.Loop() {
			if n, err := unix.Write(wfd, msg); n != 64 || err != nil {
				b.Fatal(n, err)
			}
			for got := 0; got < 64; {
				n, err := unix.Read(rfd, buf[got:])
				if err != nil && err != unix.EAGAIN {
					b.Fatal(err)
				}
				if n > 0 {
					got += n
				}
			}
		}
	})
	r.run("impl=net", func(b *testing.B) {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		w, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		rd, err := l.Accept()
		if err != nil {
			b.Fatal(err)
		}
		defer rd.Close()
		b.ReportAllocs()
		for b.Loop() {
			if n, err := w.Write(msg); n != 64 || err != nil {
				b.Fatal(n, err)
			}
			for got := 0; got < 64; {
				n, err := rd.Read(buf[got:])
				if err != nil {
					b.Fatal(err)
				}
				got += n
			}
		}
	})
}
