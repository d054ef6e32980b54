//go:build unix

package selector_test

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/selector"
)

// allocs runs f under testing.AllocsPerRun with the GC off (so a
// collection cannot be charged to f) and fails on any allocation.
func allocs(t *testing.T, what string, f func()) {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	f() // warm up: first-call probes (epoll_pwait2) and lazy growth
	if n := testing.AllocsPerRun(500, f); n != 0 {
		t.Errorf("%s: %v allocations per run, want 0", what, n)
	}
}

func TestAllocsSelectEmpty(t *testing.T) {
	s := newSelector(t)
	ev := selector.NewEvents(64)
	allocs(t, "Select(0), nothing ready", func() {
		if err := s.Select(ev, 0); err != nil || ev.Len() != 0 {
			t.Fatal(err, ev.Len())
		}
	})
	allocs(t, "Select(1µs), nothing ready", func() {
		if err := s.Select(ev, time.Microsecond); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAllocsSelect64Ready: 64 wakers woken, one Select returns all 64, and
// every token is read through both At and All.
func TestAllocsSelect64Ready(t *testing.T) {
	// On io_uring the wakers' completions are posted by the thread that
	// submitted their polls (the package doc's "io_uring and threads"): on
	// this one only if the goroutine stays on it, or Select takes the
	// first few and returns (io_uring -race under load: 59 of 64).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := newSelector(t)
	var ws [64]*selector.Waker
	for i := range ws {
		w, err := selector.NewWaker(s, selector.Token(i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		ws[i] = w
	}
	ev := selector.NewEvents(64)
	var sum selector.Token
	allocs(t, "Wake x64 + Select with 64 ready + read every token", func() {
		for _, w := range ws {
			if err := w.Wake(); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Select(ev, time.Second); err != nil {
			t.Fatal(err)
		}
		if ev.Len() != 64 {
			t.Fatalf("%d events, want 64", ev.Len())
		}
		for i := range ev.Len() {
			sum += ev.At(i).Token()
		}
		for e := range ev.All() {
			if e.IsReadable() {
				sum += e.Token()
			}
		}
	})
	if sum == 0 {
		t.Fatal("tokens not read")
	}
}

func TestAllocsRegistration(t *testing.T) {
	s := newSelector(t)
	r, _ := pipe(t)
	allocs(t, "Register + Reregister + Deregister", func() {
		if err := s.Register(r, 1, selector.Readable); err != nil {
			t.Fatal(err)
		}
		if err := s.Reregister(r, 2, selector.Readable|selector.Writable); err != nil {
			t.Fatal(err)
		}
		if err := s.WouldBlock(r, selector.Readable); err != nil {
			t.Fatal(err)
		}
		if err := s.Deregister(r); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAllocsWake(t *testing.T) {
	s := newSelector(t)
	w, err := selector.NewWaker(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := selector.NewEvents(4)
	allocs(t, "Wake", func() {
		if err := w.Wake(); err != nil {
			t.Fatal(err)
		}
	})
	allocs(t, "Wake + blocking Select", func() {
		w.Wake()
		if err := s.Select(ev, -1); err != nil || ev.Len() != 1 {
			t.Fatal(err)
		}
	})
}

// TestGOMAXPROCS1BlockedSelect: with one P, a goroutine blocked in
// Select(-1) (or with a long timeout) must not stop the others; a Wake from
// one of them releases it. A Select that kept its P while sleeping in the
// kernel would starve the spinning goroutine and never be woken.
func TestGOMAXPROCS1BlockedSelect(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, timeout := range []time.Duration{-1, time.Hour} {
		s := newSelector(t)
		w, err := selector.NewWaker(s, 7)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			ev := selector.NewEvents(4)
			err := s.Select(ev, timeout)
			if err == nil && (ev.Len() != 1 || ev.At(0).Token() != 7) {
				err = errorf("Select returned %d events", ev.Len())
			}
			done <- err
		}()
		spins := 0
		for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
			spins++
			runtime.Gosched()
		}
		select {
		case err := <-done:
			t.Fatalf("timeout %v: Select returned before the wake: %v", timeout, err)
		default:
		}
		if err := w.Wake(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("timeout %v: Select not released by Wake", timeout)
		}
		if spins < 10 {
			t.Fatalf("the other goroutine ran only %d times in 50ms", spins)
		}
		w.Close()
	}
}

// TestNoFdLeak: 2000 New/Register/Select/Close cycles (with a Waker and a
// clone every tenth) leave the descriptor count where it was.
func TestNoFdLeak(t *testing.T) {
	before := countFds(t)
	r, _ := pipe(t)
	ev := selector.NewEvents(8)
	for i := range 2000 {
		s, err := selector.New()
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if s.Fd() >= 0 && !isCloexec(t, s.Fd()) {
			t.Fatalf("cycle %d: fd %d without FD_CLOEXEC", i, s.Fd())
		}
		if err := s.Register(r, 1, selector.Readable); err != nil {
			t.Fatal(err)
		}
		if err := s.Select(ev, 0); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			w, err := selector.NewWaker(s, 2)
			if err != nil {
				t.Fatal(err)
			}
			w.Wake()
			c, err := s.TryClone()
			if err != nil {
				t.Fatal(err)
			}
			if c.Fd() >= 0 && !isCloexec(t, c.Fd()) {
				t.Fatalf("clone fd %d without FD_CLOEXEC", c.Fd())
			}
			c.Close()
			w.Close()
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := countFds(t); after != before+2 { // +2: the pipe
		t.Fatalf("descriptors: %d before, %d after 2000 cycles (+2 for the pipe expected)", before, after)
	}
}
