//go:build linux

package sock

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/selector"
)

// TestReview3CloseMissesConcurrentSendRing: Close deregisters a
// connection from the Selector of its ring calls "while its number is
// still its own", but it reads c.ring once, before closeWait marks the
// descriptor closed. A SendRing on another goroutine that has already
// taken its reference (Close is "safe against concurrent calls") records
// the Selector after that read: Close does not deregister, the SQE queued
// by the Send names the number, and the last release closes it. The next
// Select submits the Send on whatever socket reused the number. This test
// plays that interleaving with SendRing's own statements.
func TestReview3CloseMissesConcurrentSendRing(t *testing.T) {
	if err := selector.IoUringUnavailable(); err != nil {
		t.Skipf("SKIP: io_uring test not run: %v", err)
	}
	sel, err := selector.New(selector.WithBackend("io_uring"))
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	a, b, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fd := a.Fd()
	secret := []byte("for a only")
	// SendRing, step 1: the reference.
	if !a.ref.acquire() {
		t.Fatal("acquire")
	}
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }() // reads a.ring (nil), then waits for the reference
	for deadline := time.Now().Add(3 * time.Second); a.ref.state.Load()&refClosed == 0; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("Close did not mark the descriptor closed")
		}
	}
	// SendRing, the rest: record the Selector, queue the send, release.
	a.noteRing(sel)
	if err := sel.Send(a.ref.fd, 1, secret); err != nil {
		t.Fatal(err)
	}
	a.ref.release()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return after the last release")
	}
	x, y, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	defer y.Close()
	if x.Fd() != fd {
		t.Skipf("SKIP: the new socket got fd %d, not the closed %d: no reuse to show", x.Fd(), fd)
	}
	ev := selector.NewEvents(8)
	for range 5 {
		if err := sel.Select(ev, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64)
	if n, err := y.Read(buf); err != syscall.EAGAIN {
		t.Fatalf("the connection that reused the closed Conn's fd %d received %q (%v): a SendRing racing Close was not deregistered by it", fd, buf[:n], err)
	}
}
