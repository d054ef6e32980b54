//go:build linux && (amd64 || arm64)

package sock

import (
	"io"
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

// TestReview3CloseDeregistersOnlyLastRingSelector: c.ring remembers one
// Selector, the last one a ring call named. A connection whose RecvRing
// runs on one io_uring Selector and whose SendRing went through another
// is deregistered by Close from the second only: the first's multishot
// receive still holds the socket's file, so the peer never sees end of
// file after Close (and a re-armed receive would name the reused number).
func TestReview3CloseDeregistersOnlyLastRingSelector(t *testing.T) {
	if err := selector.IoUringUnavailable(); err != nil {
		t.Skipf("SKIP: io_uring test not run: %v", err)
	}
	var sels [2]*selector.Selector
	for i := range sels {
		s, err := selector.New(selector.WithBackend("io_uring"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sels[i] = s
	}
	a, b, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.RecvRing(sels[0], 1); err != nil {
		t.Fatal(err)
	}
	ev := selector.NewEvents(8)
	if err := sels[0].Select(ev, 0); err != nil { // submit the receive
		t.Fatal(err)
	}
	if err := a.SendRing(sels[1], 2, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Second); len(ev.Completions()) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no send completion")
		}
		if err := sels[1].Select(ev, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		for _, s := range sels { // the event loops go on (ring work runs in their Selects)
			if err := s.Select(ev, 10*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.Read(buf); err == io.EOF {
			return // end of file: the socket was closed for real
		}
	}
	t.Fatal("2 s after Close (both Selectors selecting) the peer has not seen end of file: the RecvRing on the first Selector still holds the socket")
}
