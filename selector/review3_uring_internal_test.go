//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

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
	held := lendAllBuffers(t, s, b)                                      // Events not yet reused: each keeps its chunk's buffer
	if _, err := unix.Write(b, make([]byte, uringBufSize)); err != nil { // data with no buffer for it
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

// starveRecv lends every ring buffer to Events it returns (held by the
// caller) through a Recv on a, and writes one more chunk to b that has no
// buffer to go to; the Select after it leaves the Recv starved.
func starveRecv(t *testing.T, s *Selector, a, b int) []*Events {
	t.Helper()
	held := lendAllBuffers(t, s, b)
	if _, err := unix.Write(b, []byte("waiting")); err != nil {
		t.Fatal(err)
	}
	ev := NewEvents(4)
	if err := s.Select(ev, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := len(ev.Completions()); n != 0 {
		t.Fatalf("a Select without buffers reported %d completions", n)
	}
	return held
}

// lendAllBuffers writes chunks to b, whose peer has a Recv on s, and
// Selects each into Events of its own until every ring buffer is lent to
// the Events it returns.
func lendAllBuffers(t *testing.T, s *Selector, b int) []*Events {
	t.Helper()
	var held []*Events
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
	return held
}

// TestUringStarvedRecvResumes: a Recv that ran out of buffers waits for
// them without spinning (TestReview3UringStarvedRecvSpins) and goes on
// when they come back, from a Select (the held Events' next Select gives
// its loans back) or from a Clear made while another goroutine's Select
// waits: the data that waited is reported, nothing lost.
func TestUringStarvedRecvResumes(t *testing.T) {
	for _, viaClear := range []bool{false, true} {
		s := newUringSelector(t)
		a, b := uringSocketpair(t)
		if err := s.Recv(a, 5); err != nil {
			t.Fatal(err)
		}
		held := starveRecv(t, s, a, b)
		got := make(chan []Completion, 1)
		ev := NewEvents(4)
		if viaClear {
			go func() {
				var cs []Completion
				for deadline := time.Now().Add(5 * time.Second); len(cs) == 0 && time.Now().Before(deadline); {
					if err := s.Select(ev, time.Second); err != nil {
						break
					}
					cs = append(cs, ev.Completions()...)
				}
				got <- cs
			}()
			time.Sleep(50 * time.Millisecond) // the Select is waiting (or about to)
			for _, h := range held {
				h.Clear()
			}
		} else {
			for _, h := range held {
				h.Clear()
			}
			var cs []Completion
			for deadline := time.Now().Add(5 * time.Second); len(cs) == 0 && time.Now().Before(deadline); {
				if err := s.Select(ev, time.Second); err != nil {
					t.Fatal(err)
				}
				cs = append(cs, ev.Completions()...)
			}
			got <- cs
		}
		cs := <-got
		if len(cs) != 1 || string(cs[0].Buf) != "waiting" || !cs[0].More {
			t.Fatalf("viaClear %v: after the buffers came back: %+v, want the waiting chunk", viaClear, cs)
		}
		s.Deregister(a)
	}
}

// TestUringStarvedRecvStops: StopRecv on a Recv that ran out of buffers
// (so has no request in the kernel) still ends it with its last
// completion (More false).
func TestUringStarvedRecvStops(t *testing.T) {
	s := newUringSelector(t)
	a, b := uringSocketpair(t)
	if err := s.Recv(a, 5); err != nil {
		t.Fatal(err)
	}
	held := starveRecv(t, s, a, b)
	if err := s.StopRecv(a); err != nil {
		t.Fatal(err)
	}
	ev := NewEvents(4)
	var last *Completion
	for deadline := time.Now().Add(5 * time.Second); last == nil && time.Now().Before(deadline); {
		if err := s.Select(ev, time.Second); err != nil {
			t.Fatal(err)
		}
		for i, c := range ev.Completions() {
			if !c.More {
				last = &ev.Completions()[i]
			}
		}
	}
	runtime.KeepAlive(held)
	if last == nil {
		t.Fatal("StopRecv of a starved Recv: no last completion within 5 s")
	}
	if err := s.Recv(a, 6); err != nil {
		t.Fatalf("Recv again after the stop: %v", err)
	}
	s.Deregister(a)
}
