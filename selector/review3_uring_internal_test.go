//go:build linux && !rawpoll_forcepoll

package selector

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReview3UringStarvedRecvSpins: the Recv docs say that when the 1024
// ring buffers are all lent to Events the caller holds, "the kernel's
// ENOBUFS is absorbed (the receive is armed again by the next Select and
// goes on)". It is armed again inside the same Select: recvDone re-arms
// at once, the Select's wait loop submits the re-arm with its next
// io_uring_enter, the kernel answers ENOBUFS at once again (data is
// waiting, no buffer to put it in), and so on for the whole timeout. A
// loop blocked in Select with nothing to report burns a core. Counted by
// the completions the Select consumed: a Select that waits consumes none.
func TestReview3UringStarvedRecvSpins(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := newUringSelector(t)
	a, b := uringSocketpair(t)
	if err := s.Recv(a, 5); err != nil {
		t.Fatal(err)
	}
	defer s.Deregister(a)
	var held []*Events // Events not yet reused: each keeps its chunk's buffer
	lent := 0
	chunk := make([]byte, uringBufSize)
	for deadline := time.Now().Add(10 * time.Second); lent < uringBufCount && time.Now().Before(deadline); {
		if _, err := unix.Write(b, chunk); err != nil {
			t.Fatal(err)
		}
		ev := NewEvents(4)
		if err := s.Select(ev, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		lent += len(ev.Completions())
		held = append(held, ev)
	}
	if lent < uringBufCount {
		t.Fatalf("only %d of %d buffers lent", lent, uringBufCount)
	}
	if _, err := unix.Write(b, chunk); err != nil { // data with no buffer for it
		t.Fatal(err)
	}
	ev := NewEvents(4)
	head := s.ur.st.ring.Cq.Head
	var ru0, ru1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_THREAD, &ru0)
	h0 := atomic.LoadUint32(head)
	err := s.Select(ev, 300*time.Millisecond)
	h1 := atomic.LoadUint32(head)
	unix.Getrusage(unix.RUSAGE_THREAD, &ru1)
	runtime.KeepAlive(held)
	if err != nil {
		t.Fatal(err)
	}
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	if used := h1 - h0; used > 16 {
		t.Fatalf("a 300 ms Select with every buffer lent consumed %d completions (%d events, %d completions for the caller) and %v of CPU: it spins on ENOBUFS", used, ev.Len(), len(ev.Completions()), cpu)
	}
}
