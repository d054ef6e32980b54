//go:build unix

package selector_test

// More of the shared suite: regressions of bugs found in mio's poll
// selector (they must hold on every backend), thread safety, fairness.

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// TestWakeRacingRegistrationNotLost (mio #1874): Wakes issued while other
// goroutines register and deregister are all delivered. A poll selector
// that used one internal fd for both wakes and registration changes would
// drain a wake as if it were a change, and this test would time out.
func TestWakeRacingRegistrationNotLost(t *testing.T) {
	s := newSelector(t)
	const wakeTok = selector.Token(1 << 50)
	wk, err := selector.NewWaker(s, wakeTok)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var changes atomic.Int64
	for range 2 {
		r, _ := pipe(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				changes.Add(1)
				select {
				case <-stop:
					return
				default:
				}
				if err := s.Register(r, selector.Token(i), selector.Readable); err != nil {
					t.Error(err)
					return
				}
				if err := s.Deregister(r); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for deadline := time.Now().Add(3 * time.Second); changes.Load() < 100; {
		if time.Now().After(deadline) {
			t.Fatal("the registering goroutines did not start")
		}
		time.Sleep(time.Millisecond)
	}
	ev := selector.NewEvents(16)
	end := time.Now().Add(500 * time.Millisecond)
	for i := 0; time.Now().Before(end); i++ {
		if err := wk.Wake(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Second)
		for found := false; !found; {
			if time.Now().After(deadline) {
				t.Fatalf("wake %d lost while registrations changed", i)
			}
			if err := s.Select(ev, 100*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			for e := range ev.All() {
				found = found || e.Token() == wakeTok
			}
		}
	}
}

// TestHupThenReregisterAndDeregister (mio PR #2012): after an fd reported
// POLLERR/POLLHUP (here: a pipe writer whose reader is gone), it is still
// registered: Reregister and Deregister succeed, and the re-armed fd
// reports its state again.
func TestHupThenReregisterAndDeregister(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, w, 1, selector.Writable)
	expectEvents(t, s, want{tok: 1, has: pWritable})
	unix.Close(r)
	expectEvents(t, s, want{tok: 1, has: pWriteClosed}) // epoll and poll add error; kqueue's EV_EOF has fflags 0
	expectNoEvents(t, s, 20*time.Millisecond)           // reported once, not in a loop
	if err := s.Reregister(w, 2, selector.Writable); err != nil {
		t.Fatalf("Reregister after POLLERR: %v", err)
	}
	expectEvents(t, s, want{tok: 2, has: pWriteClosed})
	if err := s.Deregister(w); err != nil {
		t.Fatalf("Deregister after POLLERR: %v", err)
	}
	if _, err := unix.Write(w, []byte("x")); err != unix.EPIPE {
		t.Fatalf("write to a pipe without reader: %v, want EPIPE (SIGPIPE is ignored by Go for non-stdout fds)", err)
	}
}

// TestNoStarvation: six fds stay ready (the application re-arms them with
// WouldBlock without draining), capacity 2: every fd is reported within
// three Selects. A scan that always started at the first entry would
// report the same two forever on the poll backend.
func TestNoStarvation(t *testing.T) {
	s := newSelector(t)
	var rs [6]int
	for i := range rs {
		r, w := pipe(t)
		rs[i] = r
		register(t, s, r, selector.Token(i), selector.Readable)
		write(t, w, []byte("x"))
	}
	ev := selector.NewEvents(2)
	seen := map[selector.Token]bool{}
	for range 3 {
		if err := s.Select(ev, time.Second); err != nil {
			t.Fatal(err)
		}
		for e := range ev.All() {
			seen[e.Token()] = true
			s.WouldBlock(rs[e.Token()], selector.Readable) // as if a read hit EAGAIN; the data stays
		}
	}
	if len(seen) != 6 {
		t.Fatalf("3 Selects of capacity 2 saw only %v", seen)
	}
}

// TestChangesDuringSelectKeepDeadline: registrations made while a Select
// waits do not restart its timeout (the poll backend is interrupted by
// each one and must resume with the time that remains).
func TestChangesDuringSelectKeepDeadline(t *testing.T) {
	s := newSelector(t)
	r, _ := pipe(t) // never ready
	done := make(chan time.Duration, 1)
	go func() {
		ev := selector.NewEvents(4)
		start := time.Now()
		if err := s.Select(ev, time.Second); err != nil || ev.Len() != 0 {
			t.Errorf("Select = %v, %d events", err, ev.Len())
		}
		done <- time.Since(start)
	}()
	for i := range 10 {
		time.Sleep(50 * time.Millisecond)
		if i%2 == 0 {
			register(t, s, r, selector.Token(i), selector.Readable)
		} else if err := s.Deregister(r); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case el := <-done:
		if el < time.Second || el > 1400*time.Millisecond {
			t.Fatalf("Select(1s) with 10 changes during the wait took %v", el)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Select(1s) did not return")
	}
}

// TestRaceStorm: for 2 s, four goroutines each register, reregister,
// deregister and wake while one goroutine selects; every event a worker
// waits for arrives, and every Wake is followed by a wake event. Run under
// -race by make test.
func TestRaceStorm(t *testing.T) {
	dur := 2 * time.Second
	if testing.Short() {
		dur = 200 * time.Millisecond
	}
	s := newSelector(t)
	const wakeTok = selector.Token(1 << 60)
	wk, err := selector.NewWaker(s, wakeTok)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.Close()

	var wakes atomic.Int64   // wake events seen by the selecting goroutine
	var got [4]atomic.Uint64 // last token seen per worker
	stop, selDone := make(chan struct{}), make(chan struct{})
	go func() { // the selecting goroutine
		defer close(selDone)
		ev := selector.NewEvents(32)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.Select(ev, 20*time.Millisecond); err != nil {
				t.Error(err)
				return
			}
			for e := range ev.All() {
				if e.Token() == wakeTok {
					wakes.Add(1)
					continue
				}
				got[e.Token()>>32].Store(uint64(e.Token()))
			}
		}
	}()
	waitFor := func(cond func() bool) bool {
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
			if cond() {
				return true
			}
			time.Sleep(100 * time.Microsecond)
		}
		return false
	}
	var wg sync.WaitGroup
	var rounds atomic.Int64
	end := time.Now().Add(dur)
	for g := range 4 {
		r, w := pipe(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint64(1); time.Now().Before(end); i += 2 {
				tok := selector.Token(uint64(g)<<32 | i)
				if err := s.Register(r, tok, selector.Readable); err != nil {
					t.Error(err)
					return
				}
				unix.Write(w, []byte("x"))
				if !waitFor(func() bool { return got[g].Load() == uint64(tok) }) {
					t.Errorf("worker %d: event for token %#x never delivered", g, tok)
					return
				}
				drain(t, r)
				s.WouldBlock(r, selector.Readable)
				if err := s.Reregister(r, tok+1, selector.Readable|selector.Writable); err != nil {
					t.Error(err)
					return
				}
				before := wakes.Load()
				if err := wk.Wake(); err != nil {
					t.Error(err)
					return
				}
				if !waitFor(func() bool { return wakes.Load() > before }) {
					t.Errorf("worker %d: wake lost", g)
					return
				}
				if err := s.Deregister(r); err != nil {
					t.Error(err)
					return
				}
				rounds.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-selDone
	if rounds.Load() < 4 {
		t.Fatalf("only %d rounds in %v", rounds.Load(), dur)
	}
	t.Logf("%d register/event/reregister/wake/deregister rounds in %v", rounds.Load(), dur)
}
