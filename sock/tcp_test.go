//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

func families(t *testing.T, f func(t *testing.T, addr netip.AddrPort)) {
	t.Run("ipv4", func(t *testing.T) { f(t, lo4) })
	t.Run("ipv6", func(t *testing.T) { f(t, lo6) })
}

func sockoptInt(t *testing.T, fd, level, opt int) int {
	t.Helper()
	v, err := unix.GetsockoptInt(fd, level, opt)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTCPEveryCall exercises every Conn and Listener call for real on a
// loopback connection, IPv4 and IPv6.
func TestTCPEveryCall(t *testing.T) {
	families(t, func(t *testing.T, addr netip.AddrPort) {
		s := newSelector(t)
		l := listen(t, addr)
		if la := l.Addr(); la.Port() == 0 || la.Addr() != addr.Addr() {
			t.Fatalf("listener bound to %v", la)
		}
		if l.Fd() < 0 {
			t.Fatal("listener Fd -1")
		}
		flf, _ := unix.FcntlInt(uintptr(l.Fd()), unix.F_GETFL, 0)
		fdf, _ := unix.FcntlInt(uintptr(l.Fd()), unix.F_GETFD, 0)
		if flf&unix.O_NONBLOCK == 0 || fdf&unix.FD_CLOEXEC == 0 {
			t.Fatalf("listener flags %#x / %#x", flf, fdf)
		}
		// Nothing pending: EAGAIN, testable with errors.Is.
		var c sock.Conn
		if _, err := l.Accept(&c); !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("Accept with nothing pending: %v", err)
		}
		client, server := connectPair(t, s, l)
		if client.PeerAddr() != l.Addr() {
			t.Fatalf("client PeerAddr %v, listener %v", client.PeerAddr(), l.Addr())
		}
		if server.PeerAddr() != client.LocalAddr() || server.LocalAddr() != l.Addr() {
			t.Fatalf("server peer %v local %v; client local %v", server.PeerAddr(), server.LocalAddr(), client.LocalAddr())
		}
		for _, c := range []*sock.Conn{client, server} {
			flf, _ := unix.FcntlInt(uintptr(c.Fd()), unix.F_GETFL, 0)
			fdf, _ := unix.FcntlInt(uintptr(c.Fd()), unix.F_GETFD, 0)
			if flf&unix.O_NONBLOCK == 0 || fdf&unix.FD_CLOEXEC == 0 {
				t.Fatalf("conn flags %#x / %#x", flf, fdf)
			}
		}

		// Options, read back from the kernel.
		if err := server.SetNoDelay(true); err != nil || sockoptInt(t, server.Fd(), unix.IPPROTO_TCP, unix.TCP_NODELAY) == 0 {
			t.Fatalf("SetNoDelay(true): %v", err)
		}
		if err := server.SetNoDelay(false); err != nil || sockoptInt(t, server.Fd(), unix.IPPROTO_TCP, unix.TCP_NODELAY) != 0 {
			t.Fatalf("SetNoDelay(false): %v", err)
		}
		if err := server.SetKeepAlive(true); err != nil || sockoptInt(t, server.Fd(), unix.SOL_SOCKET, unix.SO_KEEPALIVE) == 0 {
			t.Fatalf("SetKeepAlive: %v", err)
		}
		if err := server.SetSendBuffer(64 << 10); err != nil || sockoptInt(t, server.Fd(), unix.SOL_SOCKET, unix.SO_SNDBUF) < 64<<10 {
			t.Fatalf("SetSendBuffer: %v", err)
		}
		if err := server.SetRecvBuffer(64 << 10); err != nil || sockoptInt(t, server.Fd(), unix.SOL_SOCKET, unix.SO_RCVBUF) < 64<<10 {
			t.Fatalf("SetRecvBuffer: %v", err)
		}
		for _, sec := range []int{5, 0, -1} {
			if err := server.SetLinger(sec); err != nil {
				t.Fatal(err)
			}
			lg, err := unix.GetsockoptLinger(server.Fd(), unix.SOL_SOCKET, unix.SO_LINGER)
			if err != nil || (sec >= 0) != (lg.Onoff != 0) || sec > 0 && int(lg.Linger) != sec {
				t.Fatalf("SetLinger(%d): read back %+v, %v", sec, lg, err)
			}
		}

		// Register both for both directions, as an event loop does.
		if err := s.Register(client.Fd(), 10, selector.Readable|selector.Writable); err != nil {
			t.Fatal(err)
		}
		if err := s.Register(server.Fd(), 20, selector.Readable|selector.Writable); err != nil {
			t.Fatal(err)
		}

		// Write / Read.
		if n, err := client.Write([]byte("hello")); n != 5 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		waitEvent(t, s, 20, func(e *selector.Event) bool { return e.IsReadable() })
		buf := make([]byte, 64)
		if n, err := server.Read(buf); n != 5 || err != nil || string(buf[:5]) != "hello" {
			t.Fatalf("Read = %q, %v", buf[:n], err)
		}
		// Drained: EAGAIN, then the re-arm.
		if _, err := server.Read(buf); err != syscall.EAGAIN {
			t.Fatalf("Read of a drained socket: %v", err)
		}
		s.WouldBlock(server.Fd(), selector.Readable)

		// Writev / Readv, with empty buffers in between.
		if n, err := server.Writev([][]byte{[]byte("gather"), nil, {}, []byte("ed "), []byte("write")}); n != 14 || err != nil {
			t.Fatalf("Writev = %d, %v", n, err)
		}
		waitEvent(t, s, 10, func(e *selector.Event) bool { return e.IsReadable() })
		a, b := make([]byte, 4), make([]byte, 32)
		if n, err := client.Readv([][]byte{a, nil, b}); n != 14 || err != nil || string(a)+string(b[:10]) != "gathered write" {
			t.Fatalf("Readv = %d, %v: %q %q", n, err, a, b)
		}
		if _, err := client.Readv([][]byte{a}); err != syscall.EAGAIN {
			t.Fatalf("Readv of a drained socket: %v", err)
		}
		s.WouldBlock(client.Fd(), selector.Readable)

		// Shutdown(ShutWrite): the peer sees read-closed and EOF after the
		// data, and can still write back.
		client.Write([]byte("last"))
		if err := client.Shutdown(sock.ShutWrite); err != nil {
			t.Fatal(err)
		}
		f := waitEvent(t, s, 20, func(e *selector.Event) bool { return e.IsReadClosed() })
		if !f.readable {
			t.Fatalf("half-close event not readable: %s", f.str)
		}
		if n, err := server.Read(buf); n != 4 || err != nil {
			t.Fatalf("Read before EOF = %d, %v", n, err)
		}
		if n, err := server.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("Read at EOF = %d, %v; want io.EOF", n, err)
		}
		if n, err := server.Write([]byte("reply")); n != 5 || err != nil {
			t.Fatalf("Write after the peer's half-close = %d, %v", n, err)
		}
		waitEvent(t, s, 10, func(e *selector.Event) bool { return e.IsReadable() })
		if n, err := client.Read(buf); n != 5 || err != nil {
			t.Fatalf("client Read after its half-close = %d, %v", n, err)
		}
		if err := server.Shutdown(sock.How(99)); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("Shutdown(99): %v", err)
		}

		// Close: idempotent, then every call is ErrClosed.
		s.Deregister(server.Fd())
		if err := server.Close(); err != nil {
			t.Fatal(err)
		}
		if err := server.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if server.Fd() != -1 {
			t.Fatal("Fd after Close")
		}
		checkClosed(t, server)
		if err := l.Close(); err != nil || l.Close() != nil || l.Fd() != -1 {
			t.Fatal("listener Close not idempotent")
		}
		if _, err := l.Accept(new(sock.Conn)); err != sock.ErrClosed {
			t.Fatalf("Accept after Close: %v", err)
		}
	})
}

func checkClosed(t *testing.T, c *sock.Conn) {
	t.Helper()
	buf := make([]byte, 4)
	errs := map[string]error{}
	_, errs["Read"] = c.Read(buf)
	_, errs["Write"] = c.Write(buf)
	_, errs["Readv"] = c.Readv([][]byte{buf})
	_, errs["Writev"] = c.Writev([][]byte{buf})
	_, errs["Readv(large)"] = c.Readv(make([][]byte, 100))
	_, errs["Writev(large)"] = c.Writev(make([][]byte, 100))
	errs["Shutdown"] = c.Shutdown(sock.ShutBoth)
	errs["SetNoDelay"] = c.SetNoDelay(true)
	errs["SetKeepAlive"] = c.SetKeepAlive(true)
	errs["SetLinger"] = c.SetLinger(1)
	errs["SetSendBuffer"] = c.SetSendBuffer(1)
	errs["SetRecvBuffer"] = c.SetRecvBuffer(1)
	errs["FinishConnect"] = c.FinishConnect()
	_, errs["NetConn"] = c.NetConn()
	for name, err := range errs {
		if err != sock.ErrClosed || !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s on a closed Conn: %v, want ErrClosed", name, err)
		}
	}
	if c.LocalAddr().IsValid() {
		t.Error("LocalAddr of a closed Conn")
	}
}

func TestZeroConnIsClosed(t *testing.T) {
	var c sock.Conn
	if c.Fd() != -1 || c.Close() != nil {
		t.Fatal("zero Conn not closed")
	}
	checkClosed(t, &c)
	var l sock.Listener
	if l.Fd() != -1 || l.Close() != nil {
		t.Fatal("zero Listener not closed")
	}
	if _, err := l.Accept(&c); err != sock.ErrClosed {
		t.Fatalf("zero Listener Accept: %v", err)
	}
	var u sock.UDPConn
	if _, err := u.ReadBatch(make([]sock.Message, 1)); err != sock.ErrClosed {
		t.Fatal(err)
	}
}

// TestAcceptBadInput: Accept into a Conn that is open, or nil.
func TestAcceptBadInput(t *testing.T) {
	s := newSelector(t)
	l := listen(t, lo4)
	_, server := connectPair(t, s, l)
	c2, err := sock.Dial(l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := l.Accept(server); err != sock.ErrInUse {
		t.Fatalf("Accept into an open Conn: %v", err)
	}
	if _, err := l.Accept(nil); err != sock.ErrInUse {
		t.Fatalf("Accept(nil): %v", err)
	}
	// The queued connection is still there, and a closed Conn's storage
	// takes it.
	server.Close()
	s.WouldBlock(l.Fd(), selector.Readable)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := l.Accept(server)
		if err == nil {
			break
		}
		if err != syscall.EAGAIN || time.Now().After(deadline) {
			t.Fatalf("Accept into a closed Conn: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	if server.Fd() < 0 || server.PeerAddr() != c2.LocalAddr() {
		t.Fatalf("reused Conn: fd %d peer %v", server.Fd(), server.PeerAddr())
	}
}

func TestListenBadInput(t *testing.T) {
	if _, err := sock.Listen(netip.AddrPort{}); !errors.Is(err, sock.ErrFamily) {
		t.Fatalf("Listen(zero AddrPort): %v", err)
	}
	if _, err := sock.Dial(netip.AddrPort{}); !errors.Is(err, sock.ErrFamily) {
		t.Fatalf("Dial(zero AddrPort): %v", err)
	}
	l := listen(t, lo4)
	// A port in use.
	_, err := sock.Listen(l.Addr())
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen on a port in use: %v", err)
	}
	var op *sock.OpError
	if !errors.As(err, &op) || op.Op != "bind" {
		t.Fatalf("Listen on a port in use: %T %v", err, err)
	}
	// With SO_REUSEPORT on both, the same port is shared.
	a := listen(t, lo4, sock.ReusePort())
	b, err := sock.Listen(a.Addr(), sock.ReusePort(), sock.Backlog(16))
	if err != nil {
		t.Fatalf("second SO_REUSEPORT listener: %v", err)
	}
	b.Close()
}

// TestDialRefused: a connect to a closed port fails with ECONNREFUSED,
// seen through the Writable event and FinishConnect.
func TestDialRefused(t *testing.T) {
	families(t, func(t *testing.T, addr netip.AddrPort) {
		l := listen(t, addr)
		port := l.Addr()
		l.Close()
		s := newSelector(t)
		c, err := sock.Dial(port)
		if err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("Dial: %v", err)
			}
			return // refused at once
		}
		defer c.Close()
		if err := s.Register(c.Fd(), 3, selector.Readable|selector.Writable); err != nil {
			t.Fatal(err)
		}
		f := waitEvent(t, s, 3, writable)
		if !f.err && !f.writeClosed {
			t.Logf("refused connect event without error flags: %s", f.str)
		}
		if err := c.FinishConnect(); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("FinishConnect: %v, want ECONNREFUSED", err)
		}
	})
}

// TestDialInProgress: a connect whose SYN the listener drops (its accept
// queue is full) is still in progress: FinishConnect says EINPROGRESS,
// and after an Accept frees the queue it completes. Linux only: other
// kernels answer a full queue differently.
func TestDialInProgress(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIP: relies on Linux dropping SYNs to a full accept queue")
	}
	s := newSelector(t)
	l := listen(t, lo4, sock.Backlog(0))
	var conns []*sock.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var pending *sock.Conn
	for i := 0; i < 8 && pending == nil; i++ {
		c, err := sock.Dial(l.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		time.Sleep(20 * time.Millisecond) // loopback handshakes take microseconds
		if c.FinishConnect() == syscall.EINPROGRESS {
			pending = c
		}
	}
	if pending == nil {
		t.Skip("SKIP: no connect stayed in progress (the kernel accepted every SYN)")
	}
	if err := s.Register(pending.Fd(), 4, selector.Writable); err != nil {
		t.Fatal(err)
	}
	// Accept everything that is queued; the dropped SYN is retransmitted
	// (after about a second) and then completes.
	go func() {
		for range 400 {
			var c sock.Conn
			if _, err := l.Accept(&c); err == nil {
				defer c.Close()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		waitEvent(t, s, 4, writable)
		err := pending.FinishConnect()
		if err == nil {
			return
		}
		if err != syscall.EINPROGRESS || time.Now().After(deadline) {
			t.Fatalf("FinishConnect: %v", err)
		}
		s.WouldBlock(pending.Fd(), selector.Writable)
	}
}

// TestWriteAfterPeerClosed: EPIPE (or ECONNRESET), and no SIGPIPE, on
// Write and Writev to a peer that closed.
func TestWriteAfterPeerClosed(t *testing.T) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGPIPE)
	defer signal.Stop(sigs)
	s := newSelector(t)
	l := listen(t, lo4)
	client, server := connectPair(t, s, l)
	server.Close()
	// The first write may still be taken (the kernel learns of the close
	// from the peer's RST); writes after it fail.
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		_, werr = client.Write([]byte("x"))
		if werr == nil {
			_, werr = client.Writev([][]byte{[]byte("y")})
		}
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(werr, syscall.EPIPE) && !errors.Is(werr, syscall.ECONNRESET) {
		t.Fatalf("write to a closed peer: %v", werr)
	}
	for range 3 {
		_, err1 := client.Write([]byte("x"))
		_, err2 := client.Writev([][]byte{[]byte("y"), []byte("z")})
		if err1 == nil || err2 == nil {
			t.Fatalf("writes after the failure: %v, %v", err1, err2)
		}
	}
	// Unix stream sockets: EPIPE at once.
	a, b, err := sock.Pair()
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := a.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Write to a closed Unix peer: %v", err)
	}
	if _, err := a.Writev([][]byte{[]byte("x")}); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Writev to a closed Unix peer: %v", err)
	}
	a.Close()
	select {
	case sig := <-sigs:
		t.Fatalf("%v raised by a write to a closed peer", sig)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestReset: a peer that closes with SO_LINGER 0 resets the connection;
// the event reports it and Read returns ECONNRESET.
func TestReset(t *testing.T) {
	families(t, func(t *testing.T, addr netip.AddrPort) {
		s := newSelector(t)
		l := listen(t, addr)
		client, server := connectPair(t, s, l)
		if err := s.Register(server.Fd(), 5, selector.Readable); err != nil {
			t.Fatal(err)
		}
		if err := client.SetLinger(0); err != nil {
			t.Fatal(err)
		}
		client.Close()
		f := waitEvent(t, s, 5, func(e *selector.Event) bool { return e.IsReadClosed() || e.IsError() })
		if !f.readClosed {
			t.Errorf("RST event not read-closed: %s", f.str)
		}
		_, err := server.Read(make([]byte, 8))
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("Read after RST: %v, want ECONNRESET", err)
		}
	})
}

// TestManyBuffers: Writev and Readv with more buffers than IOV_MAX are
// split, in order, with nothing lost; empty buffers anywhere are skipped.
func TestManyBuffers(t *testing.T) {
	a, b, err := sock.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	const n = 2500 // > IOV_MAX (1024)
	out := make([][]byte, n)
	var want bytes.Buffer
	for i := range out {
		if i%7 == 3 {
			continue // an empty buffer
		}
		out[i] = []byte(fmt.Sprintf("%d,", i))
		want.Write(out[i])
	}
	w, err := a.Writev(out)
	if err != nil || w != want.Len() {
		t.Fatalf("Writev(%d buffers) = %d, %v; want %d", n, w, err, want.Len())
	}
	in := make([][]byte, n)
	for i := range in {
		in[i] = make([]byte, 2)
	}
	got := 0
	for got < want.Len() {
		m, err := b.Readv(in)
		if err != nil {
			t.Fatalf("Readv after %d bytes: %v", got, err)
		}
		var flat []byte
		left := m
		for _, p := range in {
			k := min(left, len(p))
			flat = append(flat, p[:k]...)
			left -= k
		}
		if !bytes.Equal(flat, want.Bytes()[got:got+m]) {
			t.Fatalf("Readv returned bytes out of order at %d", got)
		}
		got += m
	}
	if _, err := b.Readv(in); err != syscall.EAGAIN {
		t.Fatalf("Readv of the drained pair: %v", err)
	}
	// Zero-length and nil buffers: no system call, no error.
	for name, f := range map[string]func() (int, error){
		"Read(nil)":          func() (int, error) { return a.Read(nil) },
		"Write(nil)":         func() (int, error) { return a.Write(nil) },
		"Read(empty)":        func() (int, error) { return a.Read([]byte{}) },
		"Readv(nil)":         func() (int, error) { return a.Readv(nil) },
		"Writev(nil)":        func() (int, error) { return a.Writev(nil) },
		"Writev(empties)":    func() (int, error) { return a.Writev([][]byte{nil, {}}) },
		"Readv(empties)":     func() (int, error) { return a.Readv(make([][]byte, 20)) },
		"Writev(20 empties)": func() (int, error) { return a.Writev(make([][]byte, 20)) },
	} {
		if n, err := f(); n != 0 || err != nil {
			t.Errorf("%s = %d, %v; want 0, nil", name, n, err)
		}
	}
}

// TestCloseRaceNeverTouchesReusedFd: goroutines hammer Read on a Conn
// while another closes it and opens sockets that reuse the number; the
// readers must see only EAGAIN and ErrClosed, never the new socket's data.
func TestCloseRaceNeverTouchesReusedFd(t *testing.T) {
	for round := range 20 {
		a, b, err := sock.Pair()
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var bad atomic.Value
		stop := make(chan struct{})
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 16)
				for {
					select {
					case <-stop:
						return
					default:
					}
					n, err := a.Read(buf)
					if n > 0 || (err != syscall.EAGAIN && err != sock.ErrClosed) {
						bad.Store(fmt.Sprintf("round %d: Read = %d, %v", round, n, err))
						return
					}
				}
			}()
		}
		time.Sleep(time.Millisecond)
		a.Close()
		// New sockets, likely on a's old number, with data waiting.
		var pairs [][2]*sock.Conn
		for range 4 {
			x, y, err := sock.Pair()
			if err != nil {
				t.Fatal(err)
			}
			y.Write([]byte("not yours"))
			x.Write([]byte("not yours"))
			pairs = append(pairs, [2]*sock.Conn{x, y})
		}
		time.Sleep(2 * time.Millisecond)
		close(stop)
		wg.Wait()
		b.Close()
		for _, p := range pairs {
			p[0].Close()
			p[1].Close()
		}
		if v := bad.Load(); v != nil {
			t.Fatal(v)
		}
	}
}

// TestClosedBehindItsBack: a descriptor closed behind the Conn's back
// gives EBADF, not a panic.
func TestClosedBehindItsBack(t *testing.T) {
	a, b, err := sock.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	unix.Close(a.Fd())
	if _, err := a.Read(make([]byte, 4)); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Read: %v", err)
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Write: %v", err)
	}
	if err := a.Close(); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Close: %v", err)
	}
}
