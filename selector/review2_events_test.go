//go:build linux && (amd64 || arm64)

package selector_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// TestReview2PeerShutdownWhileReadingPausedSaysSo: an application that
// got a readable event and paused reading before EAGAIN (the echo pattern
// the docs allow: a write blocked, reading resumes on the writable event)
// sees the peer's FIN arrive meanwhile. epoll and io_uring report it
// (EPOLLIN|EPOLLRDHUP: readable, read_closed). poll disarms only the bits
// that fired: the data event fired POLLIN and left POLLRDHUP armed, so the
// FIN comes back as revents POLLRDHUP alone, an event on which every
// accessor is false (IsReadClosed wants POLLIN with POLLRDHUP): a token
// with nothing in it, which a loop can only ignore, and a hang-up the
// "remember it" rule cannot remember.
func TestReview2PeerShutdownWhileReadingPausedSaysSo(t *testing.T) {
	s := newSelector(t)
	a, b := socketpair(t)
	register(t, s, a, 7, selector.Readable|selector.Writable)
	ev := selector.NewEvents(8)
	// The connection's first events: writable, and readable once data comes.
	write(t, b, []byte("ping"))
	seen := collect(t, s, ev, []want{{tok: 7, has: pReadable | pWritable}})
	if seen[7]&(pReadable|pWritable) != pReadable|pWritable {
		t.Fatalf("first events: %v", seen[7])
	}
	// Reading paused before EAGAIN; the peer shuts down writing.
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		if err := s.Select(ev, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for e := range ev.All() {
			if propsOf(e) == 0 {
				t.Fatalf("%s: an event with every accessor false: %v", s.Backend(), e)
			}
			if e.Token() == 7 && !e.IsReadClosed() {
				t.Fatalf("%s: the event after the peer's FIN does not say read_closed: %v", s.Backend(), e)
			}
		}
	}
}

// TestReview2RegularFileReportedOnce: the package promises edge
// triggering on every backend, and that a backend that accepts a regular
// file (poll, kqueue) reports it when it becomes ready, not on every
// Select. io_uring accepts it too, but a regular file's poll has no wait
// queue, so the kernel completes the multishot poll at once without
// IORING_CQE_F_MORE; reap takes every such end with Res >= 0 for a CQ
// overflow and re-arms it, which completes at once again: the file is
// reported by every Select, and a Select with a timeout never waits (a
// loop that registers one spins at full CPU). /dev/null does the same.
func TestReview2RegularFileReportedOnce(t *testing.T) {
	s := newSelector(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "regular"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := s.Register(int(f.Fd()), 3, selector.Readable); err != nil {
		t.Skipf("%s refuses regular files (%v): nothing to check", s.Backend(), err)
	}
	defer s.Deregister(int(f.Fd()))
	ev := selector.NewEvents(8)
	if err := s.Select(ev, time.Second); err != nil {
		t.Fatal(err)
	}
	if ev.Len() != 1 || ev.At(0).Token() != 3 {
		t.Fatalf("first Select: %d events", ev.Len())
	}
	// Nothing changes: no read, no WouldBlock (read(2) on a regular file
	// never returns EAGAIN).
	for i := range 3 {
		if err := s.Select(ev, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if ev.Len() != 0 {
			t.Fatalf("%s: Select %d after the first reports the regular file again (%v): level-triggered, not edge", s.Backend(), i+2, ev.At(0))
		}
	}
}

// TestReview2SecondUrgentByteReported: IsReadable is true for urgent data
// ("urgent data is data to read"), and the contract says: read until
// EAGAIN, then WouldBlock(fd, Readable). A program that does exactly that
// for a Readable|Priority registration hears of the first urgent byte and
// never of the second on poll: the first event disarmed POLLPRI, and
// WouldBlock(fd, Readable) re-arms only POLLIN|POLLRDHUP. Nothing in the
// docs says to call WouldBlock with Priority (and after which call). epoll
// and io_uring report every urgent byte.
func TestReview2SecondUrgentByteReported(t *testing.T) {
	s := newSelector(t)
	c, srv := tcpPair(t)
	if err := s.Register(srv, 23, selector.Readable|selector.Priority); err != nil {
		t.Skipf("%s: Priority not supported: %v", s.Backend(), err)
	}
	ev := selector.NewEvents(8)
	buf := make([]byte, 16)
	for round := range 2 {
		if err := unix.Sendto(c, []byte("!"), unix.MSG_OOB, nil); err != nil {
			t.Fatal(err)
		}
		seen := collect(t, s, ev, []want{{tok: 23, has: pPriority}})
		if seen[23]&pPriority == 0 {
			t.Fatalf("%s: urgent byte %d not reported (events %v); the program read the first one and the stream to EAGAIN and called WouldBlock(fd, Readable)", s.Backend(), round+1, seen)
		}
		// The event is readable: read the urgent byte, then the stream
		// until EAGAIN, then re-arm as the contract says.
		if _, _, err := unix.Recvfrom(srv, buf, unix.MSG_OOB); err != nil {
			t.Fatalf("recv MSG_OOB: %v", err)
		}
		if _, err := unix.Read(srv, buf); err != unix.EAGAIN {
			t.Fatalf("read after the urgent byte: %v, want EAGAIN", err)
		}
		if err := s.WouldBlock(srv, selector.Readable); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReview2PendingWakeOfClosedSelectorInvisibleToClone: "A Waker belongs
// to the Selector it was made with: after that Selector's Close, Wake
// returns ErrClosed", and nothing of a Close is seen through a clone. The
// kqueue backend makes that hold for a wake made just before the Close
// too (deleteOwn deletes the closed handle's Waker knotes "so that a wake
// still pending is not reported to the clone with their token";
// TestClosedSelectorsWakersInvisibleToClone). On epoll, poll and io_uring
// the Waker's eventfd stays in the shared set until Waker.Close, and the
// clone's next Select reports the closed Selector's Waker token.
func TestReview2PendingWakeOfClosedSelectorInvisibleToClone(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := selector.NewWaker(s, 42)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Wake(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ev := selector.NewEvents(4)
	for range 3 {
		if err := c.Select(ev, 30*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for e := range ev.All() {
			t.Fatalf("%s: the clone got the closed Selector's Waker event: %v", c.Backend(), e)
		}
	}
}
