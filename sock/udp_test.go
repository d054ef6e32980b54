//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

func listenUDP(t testing.TB, addr netip.AddrPort, opts ...sock.Option) *sock.UDPConn {
	t.Helper()
	u, err := sock.ListenUDP(addr, opts...)
	if err != nil {
		if addr.Addr().Is6() {
			t.Skipf("SKIP: no IPv6 loopback here: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	return u
}

// readFromWait reads one datagram, waiting for the socket's readable event
// on EAGAIN (with the re-arm the poll backend needs).
func readFromWait(t testing.TB, s *selector.Selector, tok selector.Token, u *sock.UDPConn, p []byte) (int, netip.AddrPort) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		n, from, err := u.ReadFrom(p)
		if err == nil {
			return n, from
		}
		if err != syscall.EAGAIN {
			t.Fatalf("ReadFrom: %v", err)
		}
		s.WouldBlock(u.Fd(), selector.Readable)
		waitEvent(t, s, tok, readable)
	}
	t.Fatal("no datagram within 5s")
	return 0, netip.AddrPort{}
}

func TestUDPEveryCall(t *testing.T) {
	families(t, func(t *testing.T, addr netip.AddrPort) {
		s := newSelector(t)
		a := listenUDP(t, addr)
		b := listenUDP(t, addr)
		if a.LocalAddr().Port() == 0 || a.LocalAddr().Addr() != addr.Addr() {
			t.Fatalf("LocalAddr %v", a.LocalAddr())
		}
		if err := s.Register(b.Fd(), 7, selector.Readable); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		if _, _, err := b.ReadFrom(buf); !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("ReadFrom on an empty socket: %v", err)
		}
		s.WouldBlock(b.Fd(), selector.Readable)
		if n, err := a.WriteTo([]byte("ping"), b.LocalAddr()); n != 4 || err != nil {
			t.Fatalf("WriteTo = %d, %v", n, err)
		}
		n, from := readFromWait(t, s, 7, b, buf)
		if n != 4 || string(buf[:4]) != "ping" || from != a.LocalAddr() {
			t.Fatalf("ReadFrom = %q from %v; want ping from %v", buf[:n], from, a.LocalAddr())
		}
		// A zero-length datagram is a datagram.
		if n, err := a.WriteTo(nil, b.LocalAddr()); n != 0 || err != nil {
			t.Fatalf("WriteTo(nil) = %d, %v", n, err)
		}
		if n, from = readFromWait(t, s, 7, b, buf); n != 0 || from != a.LocalAddr() {
			t.Fatalf("empty datagram: %d from %v", n, from)
		}
		// A datagram longer than the buffer is truncated.
		a.WriteTo(bytes.Repeat([]byte("x"), 100), b.LocalAddr())
		if n, _ = readFromWait(t, s, 7, b, buf[:10]); n != 10 {
			t.Fatalf("truncated ReadFrom = %d", n)
		}
		// Wrong family.
		other := netip.MustParseAddrPort("[::1]:9")
		if addr.Addr().Is6() {
			other = netip.MustParseAddrPort("127.0.0.1:9")
		}
		if _, err := a.WriteTo([]byte("x"), other); !errors.Is(err, sock.ErrFamily) {
			t.Fatalf("WriteTo another family: %v", err)
		}
		if _, err := a.WriteTo([]byte("x"), netip.AddrPort{}); !errors.Is(err, sock.ErrFamily) {
			t.Fatalf("WriteTo the zero AddrPort: %v", err)
		}
		// Connected: Read and Write; WriteTo refused.
		c, err := sock.DialUDP(b.LocalAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.PeerAddr() != b.LocalAddr() {
			t.Fatalf("PeerAddr %v", c.PeerAddr())
		}
		if n, err := c.Write([]byte("conn")); n != 4 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if n, from = readFromWait(t, s, 7, b, buf); n != 4 || from != c.LocalAddr() {
			t.Fatalf("from the connected socket: %q from %v (its address %v)", buf[:n], from, c.LocalAddr())
		}
		if _, err := c.WriteTo([]byte("x"), b.LocalAddr()); err != syscall.EISCONN {
			t.Fatalf("WriteTo on a connected socket: %v", err)
		}
		if err := s.Register(c.Fd(), 8, selector.Readable); err != nil {
			t.Fatal(err)
		}
		b.WriteTo([]byte("back"), c.LocalAddr())
		waitEvent(t, s, 8, readable)
		if n, err := c.Read(buf); n != 4 || err != nil || string(buf[:4]) != "back" {
			t.Fatalf("Read = %q, %v", buf[:n], err)
		}
		if _, err := c.Read(buf); err != syscall.EAGAIN {
			t.Fatalf("Read of a drained socket: %v", err)
		}
		if _, err := a.Write([]byte("x")); !errors.Is(err, syscall.EDESTADDRREQ) {
			t.Fatalf("Write on an unconnected socket: %v", err)
		}
		if err := b.SetRecvBuffer(256 << 10); err != nil {
			t.Fatal(err)
		}
		if err := b.SetSendBuffer(256 << 10); err != nil {
			t.Fatal(err)
		}
		// Closed.
		s.Deregister(c.Fd())
		c.Close()
		if c.Close() != nil || c.Fd() != -1 {
			t.Fatal("second Close")
		}
		errs := []error{}
		_, err = c.Read(buf)
		errs = append(errs, err)
		_, err = c.Write(buf)
		errs = append(errs, err)
		_, _, err = c.ReadFrom(buf)
		errs = append(errs, err)
		_, err = c.ReadBatch(make([]sock.Message, 2))
		errs = append(errs, err)
		_, err = c.WriteBatch(make([]sock.Message, 2))
		errs = append(errs, err)
		errs = append(errs, c.SetRecvBuffer(1), c.SetSendBuffer(1))
		for i, err := range errs {
			if err != sock.ErrClosed {
				t.Errorf("call %d on a closed UDPConn: %v", i, err)
			}
		}
	})
}

// TestUDPBatch: 40 datagrams (more than one recvmmsg/sendmmsg chunk of
// 32), each to and from the right address, one truncated.
func TestUDPBatch(t *testing.T) {
	families(t, func(t *testing.T, addr netip.AddrPort) {
		s := newSelector(t)
		a := listenUDP(t, addr)
		b := listenUDP(t, addr)
		c := listenUDP(t, addr)
		b.SetRecvBuffer(1 << 20)
		c.SetRecvBuffer(1 << 20)
		if err := s.Register(b.Fd(), 1, selector.Readable); err != nil {
			t.Fatal(err)
		}
		if err := s.Register(c.Fd(), 2, selector.Readable); err != nil {
			t.Fatal(err)
		}
		const k = 40
		out := make([]sock.Message, k)
		for i := range out {
			out[i].Buf = []byte(fmt.Sprintf("datagram %02d", i))
			out[i].Addr = b.LocalAddr()
			if i%2 == 1 {
				out[i].Addr = c.LocalAddr()
			}
		}
		out[5].Buf = bytes.Repeat([]byte("L"), 100) // truncated on the way in
		sent := 0
		for deadline := time.Now().Add(5 * time.Second); sent < k && time.Now().Before(deadline); {
			n, err := a.WriteBatch(out[sent:])
			if err == syscall.EAGAIN {
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				t.Fatalf("WriteBatch: %v", err)
			}
			sent += n
		}
		for i := range out {
			if out[i].N != len(out[i].Buf) {
				t.Fatalf("message %d: N %d, len %d", i, out[i].N, len(out[i].Buf))
			}
		}
		for _, rc := range []struct {
			u   *sock.UDPConn
			tok selector.Token
			odd int
		}{{b, 1, 0}, {c, 2, 1}} {
			in := make([]sock.Message, k)
			for i := range in {
				in[i].Buf = make([]byte, 16)
			}
			got := 0
			for deadline := time.Now().Add(5 * time.Second); got < k/2 && time.Now().Before(deadline); {
				n, err := rc.u.ReadBatch(in[got:])
				if err == syscall.EAGAIN {
					s.WouldBlock(rc.u.Fd(), selector.Readable)
					waitEvent(t, s, rc.tok, readable)
					continue
				}
				if err != nil {
					t.Fatalf("ReadBatch: %v", err)
				}
				got += n
			}
			if got != k/2 {
				t.Fatalf("received %d datagrams, want %d", got, k/2)
			}
			for j := range got {
				i := 2*j + rc.odd
				m := in[j]
				if m.Addr != a.LocalAddr() {
					t.Fatalf("datagram %d from %v, want %v", i, m.Addr, a.LocalAddr())
				}
				if i == 5 {
					if !m.Truncated || m.N != 16 && m.N != 100 {
						t.Fatalf("long datagram: N %d truncated %v", m.N, m.Truncated)
					}
					continue
				}
				if m.Truncated || string(m.Buf[:m.N]) != string(out[i].Buf) {
					t.Fatalf("datagram %d: %q (truncated %v), want %q", i, m.Buf[:m.N], m.Truncated, out[i].Buf)
				}
			}
			if n, err := rc.u.ReadBatch(in); n != 0 || err != syscall.EAGAIN {
				t.Fatalf("ReadBatch of a drained socket = %d, %v", n, err)
			}
		}
		// A bad address: first message refused; later ones cut the batch.
		bad := []sock.Message{{Buf: []byte("x"), Addr: netip.AddrPort{}}}
		if n, err := a.WriteBatch(bad); n != 0 || !errors.Is(err, sock.ErrFamily) {
			t.Fatalf("WriteBatch with a bad first address = %d, %v", n, err)
		}
		mixed := []sock.Message{{Buf: []byte("ok"), Addr: b.LocalAddr()}, {Buf: []byte("x")}, {Buf: []byte("never"), Addr: b.LocalAddr()}}
		if n, err := a.WriteBatch(mixed); n != 1 || err != nil {
			t.Fatalf("WriteBatch with a bad second address = %d, %v; want 1, nil", n, err)
		}
		if n, err := a.WriteBatch(nil); n != 0 || err != nil {
			t.Fatalf("WriteBatch(nil) = %d, %v", n, err)
		}
		if n, err := a.ReadBatch(nil); n != 0 || err != nil {
			t.Fatalf("ReadBatch(nil) = %d, %v", n, err)
		}
	})
}

// TestUDPDualStack: a DualStack IPv6 socket talks to IPv4 peers, which
// appear unmapped; without DualStack, IPv4 destinations are refused.
func TestUDPDualStack(t *testing.T) {
	v6 := listenUDP(t, netip.MustParseAddrPort("[::]:0"), sock.DualStack())
	v4 := listenUDP(t, lo4)
	s := newSelector(t)
	if err := s.Register(v4.Fd(), 1, selector.Readable); err != nil {
		t.Fatal(err)
	}
	if err := s.Register(v6.Fd(), 2, selector.Readable); err != nil {
		t.Fatal(err)
	}
	if _, err := v6.WriteTo([]byte("mapped"), v4.LocalAddr()); err != nil {
		t.Fatalf("WriteTo an IPv4 address from a dual-stack socket: %v", err)
	}
	buf := make([]byte, 16)
	n, from := readFromWait(t, s, 1, v4, buf)
	if string(buf[:n]) != "mapped" || !from.Addr().Is4() {
		t.Fatalf("got %q from %v", buf[:n], from)
	}
	v4.WriteTo([]byte("back"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), v6.LocalAddr().Port()))
	n, from = readFromWait(t, s, 2, v6, buf)
	if string(buf[:n]) != "back" || from != v4.LocalAddr() {
		t.Fatalf("dual-stack ReadFrom: %q from %v, want from %v (unmapped)", buf[:n], from, v4.LocalAddr())
	}
	only6 := listenUDP(t, lo6)
	if _, err := only6.WriteTo([]byte("x"), v4.LocalAddr()); !errors.Is(err, sock.ErrFamily) {
		t.Fatalf("WriteTo IPv4 from an IPv6-only socket: %v", err)
	}
}

// TestUDPBatchConcurrent: batch calls on one connection from several
// goroutines at once (each may then take the pool's arrays instead of the
// connection's): every datagram arrives intact, and -race finds nothing.
func TestUDPBatchConcurrent(t *testing.T) {
	lo := netip.MustParseAddrPort("127.0.0.1:0")
	a, err := sock.ListenUDP(lo)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sock.ListenUDP(lo, sock.ReuseAddr(true))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.SetRecvBuffer(4 << 20)
	const senders, rounds, per = 4, 50, 8
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms := make([]sock.Message, per)
			for i := range ms {
				ms[i] = sock.Message{Buf: []byte{byte(g), byte(i)}, Addr: b.LocalAddr()}
			}
			for range rounds {
				for sent := 0; sent < per; {
					n, err := a.WriteBatch(ms[sent:])
					if err == syscall.EAGAIN {
						time.Sleep(time.Millisecond)
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					sent += n
				}
			}
		}()
	}
	got := 0
	ms := make([]sock.Message, 16)
	for i := range ms {
		ms[i].Buf = make([]byte, 4)
	}
	for deadline := time.Now().Add(10 * time.Second); got < senders*rounds*per && time.Now().Before(deadline); {
		n, err := b.ReadBatch(ms)
		if err == syscall.EAGAIN {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms[:n] {
			if m.N != 2 || m.Buf[0] >= senders || m.Buf[1] >= per || m.Addr != a.LocalAddr() {
				t.Fatalf("datagram %+v", m)
			}
		}
		got += n
	}
	wg.Wait()
	if got != senders*rounds*per {
		t.Fatalf("received %d of %d datagrams", got, senders*rounds*per)
	}
}

// TestUDPBatchHeadersReused: the batch calls keep their message headers
// from call to call and rewrite only what changes. A connected socket's
// WriteBatch clears a header's name (no destination), and the calls after
// it must put the name back: a ReadBatch on the same socket still reports
// each sender, a WriteBatch to an explicit address still sends there, and
// chunks past the first 32 messages are built as the first ones.
func TestUDPBatchHeadersReused(t *testing.T) {
	families(t, func(t *testing.T, addr netip.AddrPort) {
		s := newSelector(t)
		peer := listenUDP(t, addr)
		peer.SetRecvBuffer(1 << 20)
		if err := s.Register(peer.Fd(), 1, selector.Readable); err != nil {
			t.Fatal(err)
		}
		c, err := sock.DialUDP(peer.LocalAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetRecvBuffer(1 << 20)
		if err := s.Register(c.Fd(), 2, selector.Readable); err != nil {
			t.Fatal(err)
		}
		// readAll receives want datagrams on u, checking sender and bytes.
		readAll := func(u *sock.UDPConn, tok selector.Token, from netip.AddrPort, want []string) {
			t.Helper()
			in := make([]sock.Message, len(want))
			for i := range in {
				in[i].Buf = make([]byte, 32)
				in[i].Addr = netip.MustParseAddrPort("192.0.2.1:9") // overwritten
			}
			got := 0
			for deadline := time.Now().Add(5 * time.Second); got < len(want) && time.Now().Before(deadline); {
				n, err := u.ReadBatch(in[got:])
				if err == syscall.EAGAIN {
					s.WouldBlock(u.Fd(), selector.Readable)
					waitEvent(t, s, tok, readable)
					continue
				}
				if err != nil {
					t.Fatalf("ReadBatch: %v", err)
				}
				got += n
			}
			if got != len(want) {
				t.Fatalf("received %d datagrams, want %d", got, len(want))
			}
			for i, m := range in {
				if m.Addr != from || string(m.Buf[:m.N]) != want[i] {
					t.Fatalf("datagram %d: %q from %v, want %q from %v", i, m.Buf[:m.N], m.Addr, want[i], from)
				}
			}
		}
		batch := func(prefix string, n int, to netip.AddrPort) ([]sock.Message, []string) {
			ms, want := make([]sock.Message, n), make([]string, n)
			for i := range ms {
				want[i] = fmt.Sprintf("%s %02d", prefix, i)
				ms[i] = sock.Message{Buf: []byte(want[i]), Addr: to}
			}
			return ms, want
		}
		send := func(u *sock.UDPConn, ms []sock.Message) {
			t.Helper()
			sent := 0
			for deadline := time.Now().Add(5 * time.Second); sent < len(ms) && time.Now().Before(deadline); {
				n, err := u.WriteBatch(ms[sent:])
				if err == syscall.EAGAIN {
					time.Sleep(time.Millisecond)
					continue
				}
				if err != nil {
					t.Fatalf("WriteBatch: %v", err)
				}
				sent += n
			}
			if sent != len(ms) {
				t.Fatalf("sent %d of %d", sent, len(ms))
			}
		}
		// 40: two chunks. No address: the connected peer.
		ms, want := batch("plain", 40, netip.AddrPort{})
		send(c, ms)
		readAll(peer, 1, c.LocalAddr(), want)
		// Replies read on the socket whose headers were just cleared.
		ms, want = batch("reply", 40, c.LocalAddr())
		send(peer, ms)
		readAll(c, 2, peer.LocalAddr(), want)
		// Explicit destination (the peer's own address) after the cleared names.
		ms, want = batch("named", 40, peer.LocalAddr())
		send(c, ms)
		readAll(peer, 1, c.LocalAddr(), want)
		// Mixed in one batch: every other message without an address.
		ms, want = batch("mixed", 40, peer.LocalAddr())
		for i := 0; i < len(ms); i += 2 {
			ms[i].Addr = netip.AddrPort{}
		}
		send(c, ms)
		readAll(peer, 1, c.LocalAddr(), want)
		ms, want = batch("again", 40, c.LocalAddr())
		send(peer, ms)
		readAll(c, 2, peer.LocalAddr(), want)
		if runtime.GOOS != "linux" {
			return // the BSDs refuse a destination on a connected socket (EISCONN)
		}
		// A slot cleared in the first chunk and named in the second, to a
		// third socket: the name must be put back within the call.
		other := listenUDP(t, addr)
		if err := s.Register(other.Fd(), 3, selector.Readable); err != nil {
			t.Fatal(err)
		}
		ms, want = batch("split", 40, netip.AddrPort{})
		for i := 32; i < len(ms); i++ {
			ms[i].Addr = other.LocalAddr()
		}
		send(c, ms)
		readAll(peer, 1, c.LocalAddr(), want[:32])
		readAll(other, 3, c.LocalAddr(), want[32:])
	})
}
