//go:build linux && (amd64 || arm64)

package sock_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

func review2UringSelector(t *testing.T) *selector.Selector {
	t.Helper()
	if err := selector.IoUringUnavailable(); err != nil {
		t.Skipf("SKIP: io_uring test not run: %v", err)
	}
	s, err := selector.New(selector.WithBackend("io_uring"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "io_uring" {
		t.Fatalf("Backend() = %q", s.Backend())
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// review2Reuse closes c after Deregister and then the queued ring call,
// and makes a new pair whose first end gets c's descriptor number.
func review2Reuse(t *testing.T, sel *selector.Selector, c *sock.Conn, queue func() error) (reused, peer *sock.Conn) {
	t.Helper()
	fd := c.Fd()
	// The interleaving of an event loop and another goroutine that closes
	// the connection as the docs say (Deregister, then Close): the loop's
	// ring call comes between the two.
	sel.Deregister(fd)
	if err := queue(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // sock: "no call ever reaches the kernel with a number that was closed"
		t.Fatal(err)
	}
	x, y, err := sock.Pair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close(); y.Close() })
	if x.Fd() != fd {
		t.Skipf("SKIP: the new socket got fd %d, not the closed %d: no reuse to show", x.Fd(), fd)
	}
	return x, y
}

// TestReview2SendRingAfterCloseGoesToReusedFd: SendRing queues an SQE that
// names the descriptor by number and releases the Conn's reference at
// once; the SQE reaches the kernel with the next Select. If the Conn is
// closed in between (by another goroutine, after its Deregister: Close may
// race with the other methods), the number can be reused, and the data
// is sent on the connection that reused it.
func TestReview2SendRingAfterCloseGoesToReusedFd(t *testing.T) {
	sel := review2UringSelector(t)
	a, b, err := sock.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	secret := []byte("for a only")
	x, y := review2Reuse(t, sel, a, func() error { return a.SendRing(sel, 1, secret) })
	_ = x
	ev := selector.NewEvents(8)
	for range 5 {
		if err := sel.Select(ev, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64)
	if n, err := y.Read(buf); err != syscall.EAGAIN {
		t.Fatalf("the connection that reused the closed Conn's fd received %q (%v): a SendRing queued before Close was sent to it", buf[:n], err)
	}
}

// TestReview2RecvRingAfterCloseReadsReusedFd: the same for RecvRing: the
// multishot receive is armed on whatever the number names at submission,
// so the new connection's data is consumed by the ring and reported under
// the closed Conn's token (and never reaches its own reader).
func TestReview2RecvRingAfterCloseReadsReusedFd(t *testing.T) {
	sel := review2UringSelector(t)
	a, b, err := sock.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	x, y := review2Reuse(t, sel, a, func() error { return a.RecvRing(sel, 77) })
	if _, err := y.Write([]byte("for x only")); err != nil {
		t.Fatal(err)
	}
	ev := selector.NewEvents(8)
	for range 5 {
		if err := sel.Select(ev, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for _, c := range ev.Completions() {
			if c.Token == 77 && c.Res > 0 {
				t.Fatalf("a RecvRing queued before Close read %q from the connection that reused the fd, reported under the closed Conn's token", c.Buf)
			}
		}
	}
	buf := make([]byte, 64)
	if n, err := x.Read(buf); err != nil || string(buf[:n]) != "for x only" {
		t.Fatalf("the new connection's own Read: %q, %v", buf[:n], err)
	}
}
