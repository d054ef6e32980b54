//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

package selector

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The package doc's "io_uring and threads": a poll's completion is posted
// by the thread that submitted it, and Select, Deregister, a full
// submission ring (and Close, Waker.Close) submit from their caller's
// thread. These tests hold the doc to both halves: a locked loop that makes
// its own calls sees at once what it caused, and a completion whose poll
// another thread submitted still reaches a waiting Select while that
// thread runs Go code (at its next entry into the kernel: a timer tick).
// Found by review: TestReview6UringDeregisterSubmitsOthersPolls and
// TestReview6UringFullSQSubmitsElsewhere showed the doc's first version,
// "every submission is made by a Select", wrong.

// TestUringLockedLoopSeesOwnCalls: on a ring of 4 SQ entries a locked loop
// queues x's Register, fills the ring with more Registers (the last of
// which submits), Deregisters one (which submits again), writes to x's
// peer and polls with a zero timeout: x's event is there, as on epoll.
func TestUringLockedLoopSeesOwnCalls(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	saved := uringSQEntries
	uringSQEntries = 4
	s := newUringSelector(t)
	uringSQEntries = saved
	ev := NewEvents(16)
	if err := s.Select(ev, 0); err != nil {
		t.Fatal(err)
	}
	x, y := uringSocketpair(t)
	if err := s.Register(x, 1, Readable); err != nil {
		t.Fatal(err)
	}
	var others []int
	for i := range 5 { // the ring holds 4: one of these submits
		a, _ := uringSocketpair(t)
		if err := s.Register(a, Token(10+i), Readable); err != nil {
			t.Fatal(err)
		}
		others = append(others, a)
	}
	if err := s.Deregister(others[0]); err != nil { // submits what is queued
		t.Fatal(err)
	}
	if _, err := unix.Write(y, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Select(ev, 0); err != nil {
		t.Fatal(err)
	}
	for e := range ev.All() {
		if e.Token() == 1 {
			return
		}
	}
	t.Fatalf("Select(0) after the loop's own write: no event for x (%d events)", ev.Len())
}

// TestUringOtherThreadSubmitsLate: another locked goroutine's Deregister
// submits the loop's queued Register of x; that thread then runs Go code
// without a system call. The loop's write to x's peer queues the
// completion work on that thread; a Select(0) may look before it runs
// (logged), but a waiting Select gets it while the other thread still
// spins: posted at its next entry into the kernel, an interrupt, not when
// it ends its spin.
func TestUringOtherThreadSubmitsLate(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s, ev, b1, y := queuedBehindSubmitted(t)
	var stop, spinning atomic.Bool
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := s.Deregister(b1) // submits x's poll too, from this thread
		spinning.Store(true)
		// Go code only (time.Now is the vDSO): bounded to 10 s.
		for i, end := 0, time.Now().Add(10*time.Second); i < 1e10 && !stop.Load() && time.Now().Before(end); i++ {
		}
		done <- err
	}()
	for i := 0; i < 1e9 && !spinning.Load(); i++ {
		runtime.Gosched()
	}
	if _, err := unix.Write(y, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Select(ev, 0); err != nil {
		t.Fatal(err)
	}
	at0 := ev.Len()
	start := time.Now()
	got := at0 == 1
	for !got && time.Since(start) < 5*time.Second {
		if err := s.Select(ev, time.Second); err != nil {
			t.Fatal(err)
		}
		got = ev.Len() == 1
	}
	el := time.Since(start)
	spun := spinning.Load() && !stop.Load()
	stop.Store(true)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !got {
		t.Fatalf("x's event not seen in 5 s while the submitting thread spun")
	}
	if ev.Len() > 0 && ev.At(0).Token() != 1 {
		t.Fatalf("event for token %d, want 1", ev.At(0).Token())
	}
	if !spun {
		t.Fatal("the spinning goroutine ended before the event came: not a test of delivery during the spin")
	}
	t.Logf("Select(0) at once saw %d event(s); the waiting Select got it after %v", at0, el)
}

// queuedBehindSubmitted makes the state both cross-thread tests start from,
// on the caller's locked thread: b1 (token 2) registered and submitted by a
// Select here, x (token 1) registered and still queued, so that whoever
// submits next (b1's Deregister, on another thread) submits x's poll. It
// returns the Selector, an Events, b1, and y, the peer of x.
func queuedBehindSubmitted(t *testing.T) (s *Selector, ev *Events, b1, y int) {
	t.Helper()
	s = newUringSelector(t)
	b1, _ = uringSocketpair(t)
	if err := s.Register(b1, 2, Readable); err != nil {
		t.Fatal(err)
	}
	ev = NewEvents(8)
	if err := s.Select(ev, 0); err != nil { // submits b1's poll from here
		t.Fatal(err)
	}
	x, y := uringSocketpair(t)
	if err := s.Register(x, 1, Readable); err != nil { // queued
		t.Fatal(err)
	}
	return s, ev, b1, y
}
