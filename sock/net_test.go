//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock_test

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

func nonblocking(t *testing.T, fd int) bool {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fl&unix.O_NONBLOCK != 0
}

// TestFromNetListener: a connection queued on a net.TCPListener is
// accepted by the sock Listener that took it over; the net listener is
// closed; the descriptor is non-blocking and close-on-exec.
func TestFromNetListener(t *testing.T) {
	nl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	client, err := net.Dial("tcp4", nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	l, err := sock.FromNetListener(nl)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := nl.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the net listener still accepts: %v", err)
	}
	if l.Addr().String() != nl.Addr().String() || !nonblocking(t, l.Fd()) {
		t.Fatalf("taken-over listener: %v, non-blocking %v", l.Addr(), nonblocking(t, l.Fd()))
	}
	if fdf, _ := unix.FcntlInt(uintptr(l.Fd()), unix.F_GETFD, 0); fdf&unix.FD_CLOEXEC == 0 {
		t.Fatal("not close-on-exec")
	}
	s := newSelector(t)
	c := acceptOne(t, s, l)
	if c.PeerAddr().String() != client.LocalAddr().String() {
		t.Fatalf("peer %v, client %v", c.PeerAddr(), client.LocalAddr())
	}
	// A Unix listener: its socket file stays.
	p := sockPath(t, "u")
	ul, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := sock.FromNetListener(ul)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	uc, err := sock.DialUnix(p)
	if err != nil {
		t.Fatalf("dial the taken-over Unix listener: %v", err)
	}
	uc.Close()
	acceptOne(t, s, l2)
	if _, err := sock.FromNetListener(nil); err == nil {
		t.Fatal("FromNetListener(nil) succeeded")
	}
}

// TestFromNetConn: a TCP connection taken over keeps its queued data, its
// peer, and O_NONBLOCK; the net.Conn is closed.
func TestFromNetConn(t *testing.T) {
	nl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	client, err := net.Dial("tcp4", nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	nc, err := nl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	client.Write([]byte("queued"))
	time.Sleep(10 * time.Millisecond)
	c, err := sock.FromNetConn(nc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the net.Conn still reads: %v", err)
	}
	if !nonblocking(t, c.Fd()) || c.PeerAddr().String() != client.LocalAddr().String() {
		t.Fatalf("taken over: non-blocking %v, peer %v", nonblocking(t, c.Fd()), c.PeerAddr())
	}
	s := newSelector(t)
	if err := s.Register(c.Fd(), 1, selector.Readable); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err == syscall.EAGAIN {
		s.WouldBlock(c.Fd(), selector.Readable)
		waitEvent(t, s, 1, readable)
		n, err = c.Read(buf)
	}
	if string(buf[:n]) != "queued" || err != nil {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	// New data arrives as events on our selector.
	s.WouldBlock(c.Fd(), selector.Readable)
	client.Write([]byte("later"))
	waitEvent(t, s, 1, readable)
	if n, err := c.Read(buf); string(buf[:n]) != "later" || err != nil {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	// File() would clear O_NONBLOCK on the shared open file; a takeover
	// after it sets it again.
	nc2, err := net.Dial("tcp4", nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	f, err := nc2.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c2, err := sock.FromNetConn(nc2)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if !nonblocking(t, c2.Fd()) {
		t.Fatal("taken over after File(): blocking")
	}
	if _, err := c2.Read(buf); err != syscall.EAGAIN {
		t.Fatalf("Read on the taken-over conn: %v, want EAGAIN (a blocking read would hang)", err)
	}
	// A UDP conn is not a stream.
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if _, err := sock.FromNetConn(uc); err == nil {
		t.Fatal("FromNetConn(*net.UDPConn) succeeded")
	}
}

func TestFromNetUDPConn(t *testing.T) {
	nu, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := nu.LocalAddr().(*net.UDPAddr).AddrPort()
	u, err := sock.FromNetUDPConn(nu)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if u.LocalAddr() != addr || !nonblocking(t, u.Fd()) {
		t.Fatalf("taken over: %v", u.LocalAddr())
	}
	peer := listenUDP(t, lo4)
	if _, err := peer.WriteTo([]byte("dgram"), addr); err != nil {
		t.Fatal(err)
	}
	s := newSelector(t)
	if err := s.Register(u.Fd(), 1, selector.Readable); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, from := readFromWait(t, s, 1, u, buf)
	if string(buf[:n]) != "dgram" || from != peer.LocalAddr() {
		t.Fatalf("ReadFrom = %q from %v", buf[:n], from)
	}
}

// TestNetConn: a sock connection handed to package net works with
// blocking reads, writes and deadlines, stays non-blocking underneath, and
// the sock Conn is closed.
func TestNetConn(t *testing.T) {
	s := newSelector(t)
	l := listen(t, lo4)
	client, server := connectPair(t, s, l)
	client.Write([]byte("before"))
	nc, err := server.NetConn()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if server.Fd() != -1 {
		t.Fatal("the sock Conn is still open")
	}
	sc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	sc.Control(func(fd uintptr) {
		if !nonblocking(t, int(fd)) {
			t.Error("the net.Conn's descriptor is blocking")
		}
	})
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 6)
	if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "before" {
		t.Fatalf("ReadFull = %q, %v", buf, err)
	}
	if _, err := nc.Write([]byte("blocking world")); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := nc.Read(buf); !errors.Is(err, syscall.ETIMEDOUT) && !isTimeout(err) {
		t.Fatalf("Read past the deadline: %v", err)
	}
	if nc.RemoteAddr().String() != client.LocalAddr().String() {
		t.Fatalf("RemoteAddr %v", nc.RemoteAddr())
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
