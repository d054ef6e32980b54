//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock_test

import (
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

var (
	lo4 = netip.MustParseAddrPort("127.0.0.1:0")
	lo6 = netip.MustParseAddrPort("[::1]:0")
)

func newSelector(t testing.TB) *selector.Selector {
	t.Helper()
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// listen returns a listener on addr, closed at the end of the test; for
// IPv6 it skips loudly where the machine has no ::1.
func listen(t testing.TB, addr netip.AddrPort, opts ...sock.Option) *sock.Listener {
	t.Helper()
	l, err := sock.Listen(addr, opts...)
	if err != nil {
		if addr.Addr().Is6() {
			t.Skipf("SKIP: no IPv6 loopback here: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// waitEvent selects (bounded: 5 s in all) until an event for tok that
// satisfies want, and returns a copy of its flags. Other events are
// ignored. On the poll backend the caller must have re-armed the
// direction it waits for (WouldBlock) if it fired before.
func waitEvent(t testing.TB, s *selector.Selector, tok selector.Token, want func(*selector.Event) bool) evFlags {
	t.Helper()
	ev := selector.NewEvents(16)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := s.Select(ev, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for e := range ev.All() {
			if e.Token() == tok && want(e) {
				return flagsOf(e)
			}
		}
	}
	t.Fatalf("no event for token %d within 5s", tok)
	return evFlags{}
}

// evFlags is a copy of an event's accessors, kept past the next Select.
type evFlags struct {
	readable, writable, err, readClosed, writeClosed bool
	str                                              string
}

func flagsOf(e *selector.Event) evFlags {
	return evFlags{e.IsReadable(), e.IsWritable(), e.IsError(), e.IsReadClosed(), e.IsWriteClosed(), e.String()}
}

func readable(e *selector.Event) bool { return e.IsReadable() || e.IsReadClosed() || e.IsError() }
func writable(e *selector.Event) bool { return e.IsWritable() || e.IsError() || e.IsWriteClosed() }

// connectPair returns a connected TCP pair on addr's family: the client
// from Dial (FinishConnect checked) and the server side from Accept, both
// closed at the end of the test. The listener is registered with s under
// token 1 for the accept, and deregistered after.
func connectPair(t testing.TB, s *selector.Selector, l *sock.Listener) (client, server *sock.Conn) {
	t.Helper()
	client, err := sock.Dial(l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if err := s.Register(client.Fd(), 2, selector.Writable); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, s, 2, writable)
	if err := client.FinishConnect(); err != nil {
		t.Fatalf("FinishConnect: %v", err)
	}
	if err := s.Deregister(client.Fd()); err != nil {
		t.Fatal(err)
	}
	server = acceptOne(t, s, l)
	return client, server
}

// acceptOne accepts one connection, waiting for the listener's event if
// none is pending (with the WouldBlock re-arm the poll backend needs).
func acceptOne(t testing.TB, s *selector.Selector, l *sock.Listener) *sock.Conn {
	t.Helper()
	c := new(sock.Conn)
	t.Cleanup(func() { c.Close() })
	if err := s.Register(l.Fd(), 1, selector.Readable); err != nil {
		t.Fatal(err)
	}
	defer s.Deregister(l.Fd())
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		_, err := l.Accept(c)
		if err == nil {
			return c
		}
		if err != syscall.EAGAIN {
			t.Fatalf("Accept: %v", err)
		}
		s.WouldBlock(l.Fd(), selector.Readable)
		waitEvent(t, s, 1, readable)
	}
	t.Fatal("no connection to accept within 5s")
	return nil
}
