//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package rawsys

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The socket stubs called for real: these tests run on Linux (both
// architectures) and are compiled and linked for every other target by
// make cross, to run there on a real machine. Sockets are made with x/sys
// (creation is not what is tested) and made non-blocking with fcntl, which
// works on every OS (darwin has no SOCK_NONBLOCK).

// loopbackListener returns a non-blocking TCP listener on 127.0.0.1 or
// [::1] (made with x/sys: creation is not what is tested here) and its
// address.
func loopbackListener(t testing.TB, v6 bool) (int, SockaddrStorage, uint32) {
	t.Helper()
	fam := unix.AF_INET
	if v6 {
		fam = unix.AF_INET6
	}
	fd := newSocket(t, fam, unix.SOCK_STREAM)
	var err error
	if v6 {
		err = unix.Bind(fd, &unix.SockaddrInet6{Addr: [16]byte{15: 1}})
	} else {
		err = unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	}
	if err != nil {
		if v6 {
			t.Skipf("SKIP: no IPv6 loopback here (bind [::1]: %v)", err)
		}
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		t.Fatal(err)
	}
	var sa SockaddrStorage
	n := uint32(unsafe.Sizeof(sa))
	if errno := Getsockname(fd, &sa, &n); errno != 0 {
		t.Fatal(errno)
	}
	return fd, sa, n
}

func newSocket(t testing.TB, fam, typ int) int {
	t.Helper()
	fd, err := unix.Socket(fam, typ, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	nonblock(t, fd)
	return fd
}

func nonblock(t testing.TB, fd int) {
	t.Helper()
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
}

func streamPair(t testing.TB) [2]int {
	t.Helper()
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range sp {
		t.Cleanup(func() { unix.Close(fd) })
		nonblock(t, fd)
	}
	return sp
}

// waitFd waits (bounded) for fd to become ready for events.
func waitFd(t testing.TB, fd int, events int16) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		n, err := unix.Poll(fds, 5000)
		if n == 1 {
			return
		}
		if err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
	}
	t.Fatalf("fd %d not ready for %#x within 5s", fd, events)
}

// TestAcceptConnectTCP: a non-blocking connect, the SO_ERROR read, an
// accept4 with the peer address and the flags set atomically, names on
// both sides, socket options, shutdown and close, for IPv4 and IPv6.
func TestAcceptConnectTCP(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		name := map[bool]string{false: "ipv4", true: "ipv6"}[v6]
		t.Run(name, func(t *testing.T) {
			lfd, laddr, laddrLen := loopbackListener(t, v6)
			var peer SockaddrStorage
			peerLen := uint32(unsafe.Sizeof(peer))
			if _, errno := Accept4(lfd, &peer, &peerLen, SOCK_NONBLOCK|SOCK_CLOEXEC); errno != syscall.EAGAIN {
				t.Fatalf("Accept4 with nothing pending: %v, want EAGAIN", errno)
			}
			fam := AF_INET
			if v6 {
				fam = AF_INET6
			}
			cfd := newSocket(t, fam, unix.SOCK_STREAM)
			if errno := Connect(cfd, &laddr, laddrLen); errno != 0 && errno != syscall.EINPROGRESS {
				t.Fatalf("Connect: %v", errno)
			}
			waitFd(t, cfd, unix.POLLOUT)
			var soerr int32
			l := uint32(4)
			if errno := Getsockopt(cfd, unix.SOL_SOCKET, unix.SO_ERROR, unsafe.Pointer(&soerr), &l); errno != 0 || soerr != 0 || l != 4 {
				t.Fatalf("SO_ERROR: %v, %d (len %d)", errno, soerr, l)
			}
			waitFd(t, lfd, unix.POLLIN)
			nfd, errno := Accept4(lfd, &peer, &peerLen, SOCK_NONBLOCK|SOCK_CLOEXEC)
			if errno != 0 {
				t.Fatalf("Accept4: %v", errno)
			}
			defer Close(nfd)
			fdf, _ := unix.FcntlInt(uintptr(nfd), unix.F_GETFD, 0)
			flf, _ := unix.FcntlInt(uintptr(nfd), unix.F_GETFL, 0)
			if fdf&unix.FD_CLOEXEC == 0 || flf&unix.O_NONBLOCK == 0 {
				t.Fatalf("accepted fd: fd flags %#x, status flags %#x", fdf, flf)
			}
			// The peer address accept4 stored is the client's own name.
			var local SockaddrStorage
			localLen := uint32(unsafe.Sizeof(local))
			if errno := Getsockname(cfd, &local, &localLen); errno != 0 {
				t.Fatal(errno)
			}
			if peerLen != localLen || !bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&peer)), peerLen), unsafe.Slice((*byte)(unsafe.Pointer(&local)), localLen)) {
				t.Fatalf("accept4 peer (%d bytes) differs from the client's getsockname (%d bytes)", peerLen, localLen)
			}
			if peer.Family() != fam {
				t.Fatalf("peer family %d, want %d", peer.Family(), fam)
			}
			var back SockaddrStorage
			backLen := uint32(unsafe.Sizeof(back))
			if errno := Getpeername(nfd, &back, &backLen); errno != 0 || backLen != peerLen || back != peer {
				t.Fatalf("Getpeername: %v, len %d", errno, backLen)
			}
			// Options: set, read back.
			one := int32(1)
			if errno := Setsockopt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, unsafe.Pointer(&one), 4); errno != 0 {
				t.Fatal(errno)
			}
			var got int32
			l = 4
			if errno := Getsockopt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, unsafe.Pointer(&got), &l); errno != 0 || got == 0 {
				t.Fatalf("TCP_NODELAY read back: %v, %d", errno, got)
			}
			if errno := Setsockopt(nfd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, unsafe.Pointer(&one), 3); errno != syscall.EINVAL {
				t.Fatalf("Setsockopt with a 3-byte int: %v, want EINVAL", errno)
			}
			// Half-close: the client's shutdown(SHUT_WR) is EOF on the
			// server, which can still write back.
			if errno := Shutdown(cfd, SHUT_WR); errno != 0 {
				t.Fatal(errno)
			}
			waitFd(t, nfd, unix.POLLIN)
			buf := make([]byte, 16)
			if n, errno := Read(nfd, buf); n != 0 || errno != 0 {
				t.Fatalf("Read after the peer's SHUT_WR: %d, %v; want EOF", n, errno)
			}
			if n, errno := Sendto(nfd, []byte("late"), noSignal, nil, 0); n != 4 || errno != 0 {
				t.Fatalf("Sendto after half-close: %d, %v", n, errno)
			}
			waitFd(t, cfd, unix.POLLIN)
			if n, errno := Recvfrom(cfd, buf, 0, nil, nil); n != 4 || errno != 0 || string(buf[:4]) != "late" {
				t.Fatalf("Recvfrom: %q, %v", buf[:max(n, 0)], errno)
			}
			if errno := Shutdown(cfd, 7); errno != syscall.EINVAL {
				t.Fatalf("Shutdown(how=7): %v, want EINVAL", errno)
			}
		})
	}
}

// TestConnectRefused: a non-blocking connect to a closed port fails
// through SO_ERROR (or at once) with ECONNREFUSED.
func TestConnectRefused(t *testing.T) {
	lfd, laddr, laddrLen := loopbackListener(t, false)
	unix.Close(lfd) // the port is now closed (the cleanup's second close is harmless: EBADF)
	cfd := newSocket(t, AF_INET, unix.SOCK_STREAM)
	errno := Connect(cfd, &laddr, laddrLen)
	if errno == syscall.EINPROGRESS {
		waitFd(t, cfd, unix.POLLOUT)
		var soerr int32
		l := uint32(4)
		if e := Getsockopt(cfd, unix.SOL_SOCKET, unix.SO_ERROR, unsafe.Pointer(&soerr), &l); e != 0 {
			t.Fatal(e)
		}
		errno = syscall.Errno(soerr)
	}
	if errno != syscall.ECONNREFUSED {
		t.Fatalf("connect to a closed port: %v, want ECONNREFUSED", errno)
	}
}

func iovecs(bufs ...[]byte) []Iovec {
	iov := make([]Iovec, len(bufs))
	for i, b := range bufs {
		iov[i] = MakeIovec(b)
	}
	return iov
}

func TestReadvWritev(t *testing.T) {
	sp := streamPair(t)
	if n, errno := Writev(sp[0], iovecs([]byte("gather "), nil, []byte("write"), []byte("!"))); n != 13 || errno != 0 {
		t.Fatalf("Writev = %d, %v", n, errno)
	}
	a, b, c := make([]byte, 3), make([]byte, 0), make([]byte, 20)
	n, errno := Readv(sp[1], iovecs(a, b, c))
	if n != 13 || errno != 0 || string(a) != "gat" || string(c[:10]) != "her write!" {
		t.Fatalf("Readv = %d, %v: %q %q", n, errno, a, c[:10])
	}
	if _, errno := Readv(sp[1], iovecs(a)); errno != syscall.EAGAIN {
		t.Fatalf("Readv on an empty socket: %v, want EAGAIN", errno)
	}
	if n, errno := Writev(sp[0], nil); n != 0 || errno != 0 {
		t.Fatalf("Writev(no iovecs) = %d, %v", n, errno)
	}
	big := make([]Iovec, IOV_MAX+1)
	for i := range big {
		big[i] = MakeIovec(a[:1])
	}
	if _, errno := Writev(sp[0], big); errno != syscall.EINVAL {
		t.Fatalf("Writev(IOV_MAX+1 iovecs): %v, want EINVAL", errno)
	}
	if n, errno := Writev(sp[0], big[:IOV_MAX]); n != IOV_MAX || errno != 0 {
		t.Fatalf("Writev(IOV_MAX iovecs) = %d, %v", n, errno)
	}
	if _, errno := Readv(-1, iovecs(a)); errno != syscall.EBADF {
		t.Fatalf("Readv(-1): %v", errno)
	}
	// A writev to a closed peer: EPIPE (and SIGPIPE, which a Go program
	// without a handler ignores for descriptors other than 1 and 2; on
	// darwin SO_NOSIGPIPE is what sock sets).
	unix.Close(sp[1])
	if _, errno := Writev(sp[0], iovecs(a)); errno != syscall.EPIPE {
		t.Fatalf("Writev to a closed peer: %v, want EPIPE", errno)
	}
}

// udpPair returns two bound non-blocking UDP sockets on 127.0.0.1 and
// their addresses.
func udpPair(t testing.TB) (a, b int, aAddr, bAddr SockaddrStorage) {
	t.Helper()
	bind := func() (int, SockaddrStorage) {
		fd := newSocket(t, AF_INET, unix.SOCK_DGRAM)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
		var sa SockaddrStorage
		n := uint32(unsafe.Sizeof(sa))
		if errno := Getsockname(fd, &sa, &n); errno != 0 || n != 16 {
			t.Fatal(errno, n)
		}
		return fd, sa
	}
	a, aAddr = bind()
	b, bAddr = bind()
	return
}

func TestDatagramCalls(t *testing.T) {
	a, b, aAddr, bAddr := udpPair(t)
	buf := make([]byte, 64)
	if _, errno := Recvfrom(b, buf, 0, nil, nil); errno != syscall.EAGAIN {
		t.Fatalf("Recvfrom on an empty socket: %v", errno)
	}
	// sendto / recvfrom with addresses.
	if n, errno := Sendto(a, []byte("one"), 0, &bAddr, 16); n != 3 || errno != 0 {
		t.Fatalf("Sendto = %d, %v", n, errno)
	}
	waitFd(t, b, unix.POLLIN)
	var from SockaddrStorage
	fromLen := uint32(unsafe.Sizeof(from))
	n, errno := Recvfrom(b, buf, 0, &from, &fromLen)
	if n != 3 || errno != 0 || string(buf[:3]) != "one" || fromLen != 16 || from != aAddr {
		t.Fatalf("Recvfrom = %d, %v, %q, from len %d", n, errno, buf[:max(n, 0)], fromLen)
	}
	if p := from.Inet4(); p.Addr != [4]byte{127, 0, 0, 1} || p.Port != aAddr.Inet4().Port {
		t.Fatalf("from %v:%v", p.Addr, p.Port)
	}
	// sendmsg / recvmsg of a datagram larger than the buffer: truncated,
	// with MSG_TRUNC in the flags (Linux also returns the real size when
	// MSG_TRUNC is passed in; the BSDs return what was stored).
	m := MakeMsghdr(unsafe.Pointer(&bAddr), 16, iovecs([]byte("two "), []byte("parts")))
	if n, errno := Sendmsg(a, &m, 0); n != 9 || errno != 0 {
		t.Fatalf("Sendmsg = %d, %v", n, errno)
	}
	waitFd(t, b, unix.POLLIN)
	small := make([]byte, 4)
	rm := MakeMsghdr(unsafe.Pointer(&from), uint32(unsafe.Sizeof(from)), iovecs(small))
	want := 4
	if runtime.GOOS == "linux" {
		want = 9
	}
	if n, errno := Recvmsg(b, &rm, truncFlag); n != want || errno != 0 || string(small) != "two " || rm.Flags&unix.MSG_TRUNC == 0 || rm.Namelen != 16 {
		t.Fatalf("Recvmsg = %d, %v, %q, flags %#x", n, errno, small, rm.Flags)
	}
	// sendmmsg / recvmmsg: 5 messages in one call each way.
	const k = 5
	out := make([]Mmsghdr, k)
	payloads := make([][]byte, k)
	siov := make([]Iovec, k)
	for i := range out {
		payloads[i] = bytes.Repeat([]byte{byte('a' + i)}, i+1)
		siov[i] = MakeIovec(payloads[i])
		out[i].Hdr = MakeMsghdr(unsafe.Pointer(&bAddr), 16, siov[i:i+1])
	}
	if n, errno := Sendmmsg(a, out, 0); n != k || errno != 0 {
		t.Fatalf("Sendmmsg = %d, %v", n, errno)
	}
	for i := range out {
		if out[i].Len != uint32(i+1) {
			t.Fatalf("Sendmmsg: message %d sent %d bytes, want %d", i, out[i].Len, i+1)
		}
	}
	waitFd(t, b, unix.POLLIN)
	in := make([]Mmsghdr, k+3)
	rbufs := make([][]byte, len(in))
	riov := make([]Iovec, len(in))
	names := make([]SockaddrStorage, len(in))
	for i := range in {
		rbufs[i] = make([]byte, 16)
		riov[i] = MakeIovec(rbufs[i])
		in[i].Hdr = MakeMsghdr(unsafe.Pointer(&names[i]), uint32(unsafe.Sizeof(names[i])), riov[i:i+1])
	}
	got := 0
	for deadline := time.Now().Add(5 * time.Second); got < k && time.Now().Before(deadline); {
		n, errno := Recvmmsg(b, in[got:], 0)
		if errno == syscall.EAGAIN {
			waitFd(t, b, unix.POLLIN)
			continue
		}
		if errno != 0 {
			t.Fatalf("Recvmmsg: %v", errno)
		}
		got += n
	}
	for i := range k {
		if in[i].Len != uint32(i+1) || !bytes.Equal(rbufs[i][:in[i].Len], payloads[i]) || names[i] != aAddr {
			t.Fatalf("Recvmmsg message %d: %d bytes %q", i, in[i].Len, rbufs[i][:in[i].Len])
		}
	}
	if n, errno := Recvmmsg(b, in, 0); n != -1 || errno != syscall.EAGAIN {
		t.Fatalf("Recvmmsg with nothing waiting = %d, %v; want EAGAIN", n, errno)
	}
	if _, errno := Sendmmsg(-1, out, 0); errno != syscall.EBADF {
		t.Fatalf("Sendmmsg(-1): %v", errno)
	}
	// A connected datagram socket takes a nil address.
	if errno := Connect(a, &bAddr, 16); errno != 0 {
		t.Fatal(errno)
	}
	if n, errno := Sendto(a, []byte("c"), 0, nil, 0); n != 1 || errno != 0 {
		t.Fatalf("Sendto(connected, nil) = %d, %v", n, errno)
	}
	var bad SockaddrStorage
	bad.SetInet6([16]byte{15: 1}, 9, 0)
	if _, errno := Sendto(b, []byte("x"), 0, &bad, 28); errno != syscall.EAFNOSUPPORT && errno != syscall.EINVAL {
		t.Fatalf("Sendto an IPv6 address from an IPv4 socket: %v", errno)
	}
}

func TestBadDescriptors(t *testing.T) {
	var sa SockaddrStorage
	l := uint32(unsafe.Sizeof(sa))
	buf := make([]byte, 8)
	var v int32
	vl := uint32(4)
	m := MakeMsghdr(nil, 0, iovecs(buf))
	checks := []struct {
		name  string
		errno syscall.Errno
	}{
		{"Accept4", func() syscall.Errno { _, e := Accept4(-1, &sa, &l, 0); return e }()},
		{"Connect", Connect(-1, &sa, 16)},
		{"Writev", func() syscall.Errno { _, e := Writev(-1, iovecs(buf)); return e }()},
		{"Recvfrom", func() syscall.Errno { _, e := Recvfrom(-1, buf, 0, nil, nil); return e }()},
		{"Sendto", func() syscall.Errno { _, e := Sendto(-1, buf, 0, nil, 0); return e }()},
		{"Recvmsg", func() syscall.Errno { _, e := Recvmsg(-1, &m, 0); return e }()},
		{"Sendmsg", func() syscall.Errno { _, e := Sendmsg(-1, &m, 0); return e }()},
		// With a real iovec: qemu-user answers a message without one
		// with 0 before it looks at the descriptor (do_sendrecvmsg_locked).
		{"Recvmmsg", func() syscall.Errno { _, e := Recvmmsg(-1, []Mmsghdr{{Hdr: m}}, 0); return e }()},
		{"Shutdown", Shutdown(-1, SHUT_RDWR)},
		{"Close", Close(-1)},
		{"Getsockopt", Getsockopt(-1, unix.SOL_SOCKET, unix.SO_ERROR, unsafe.Pointer(&v), &vl)},
		{"Setsockopt", Setsockopt(-1, unix.SOL_SOCKET, unix.SO_KEEPALIVE, unsafe.Pointer(&v), 4)},
		{"Getsockname", Getsockname(-1, &sa, &l)},
		{"Getpeername", Getpeername(-1, &sa, &l)},
	}
	for _, c := range checks {
		if c.errno != syscall.EBADF {
			t.Errorf("%s(-1): %v, want EBADF", c.name, c.errno)
		}
	}
	// A descriptor that is not a socket.
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	efd := p[0]
	if _, errno := Accept4(efd, nil, nil, 0); errno != syscall.ENOTSOCK {
		t.Errorf("Accept4(pipe): %v, want ENOTSOCK", errno)
	}
	if errno := Getsockopt(efd, unix.SOL_SOCKET, unix.SO_ERROR, unsafe.Pointer(&v), &vl); errno != syscall.ENOTSOCK {
		t.Errorf("Getsockopt(pipe): %v, want ENOTSOCK", errno)
	}
}

// TestSockStubsDoNotAllocate: every stub, called the way an event loop
// calls it, allocates nothing.
func TestSockStubsDoNotAllocate(t *testing.T) {
	sp := streamPair(t)
	a, b, _, bAddr := udpPair(t)
	lfd, laddr, laddrLen := loopbackListener(t, false)
	msg := make([]byte, 64)
	buf := make([]byte, 256)
	bufs := [][]byte{buf[:64], buf[64:128], buf[128:192], buf[192:]}
	var mm [4]Mmsghdr
	var mmIov [4]Iovec
	for i := range mm {
		mmIov[i] = MakeIovec(bufs[i])
		mm[i].Hdr = MakeMsghdr(nil, 0, mmIov[i:i+1])
	}
	// Clients made before the measurement, one per run.
	const runs = 50
	for range runs + 1 {
		cfd := newSocket(t, AF_INET, unix.SOCK_STREAM)
		if errno := Connect(cfd, &laddr, laddrLen); errno != 0 && errno != syscall.EINPROGRESS {
			t.Fatal(errno)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	allocs := testing.AllocsPerRun(runs, func() {
		var iov [4]Iovec
		for i := range bufs {
			iov[i] = MakeIovec(bufs[i])
		}
		Writev(sp[0], iov[:])
		Readv(sp[1], iov[:])
		Sendto(sp[0], msg, noSignal, nil, 0)
		m := MakeMsghdr(nil, 0, iov[:1])
		Sendmsg(sp[0], &m, noSignal)
		Recvmsg(sp[1], &m, 0)
		Recvfrom(sp[1], buf, 0, nil, nil)
		Sendmmsg(a, mm[:0], 0)
		to := bAddr
		Sendto(a, msg, 0, &to, 16)
		Recvmmsg(b, mm[:], 0)
		var v int32
		vl := uint32(4)
		Getsockopt(sp[0], unix.SOL_SOCKET, unix.SO_ERROR, unsafe.Pointer(&v), &vl)
		one := int32(1)
		Setsockopt(sp[0], unix.SOL_SOCKET, unix.SO_KEEPALIVE, unsafe.Pointer(&one), 4)
		var peer SockaddrStorage
		pl := uint32(unsafe.Sizeof(peer))
		for time.Now().Before(deadline) {
			nfd, errno := Accept4(lfd, &peer, &pl, SOCK_NONBLOCK|SOCK_CLOEXEC)
			if errno == 0 {
				Shutdown(nfd, SHUT_RDWR)
				Close(nfd)
				break
			}
		}
		Getsockname(lfd, &peer, &pl)
		Connect(-1, &laddr, laddrLen)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}
