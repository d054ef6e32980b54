//go:build unix

package selector_test

// Fairness and thread safety, on every backend: no fd starves when more
// are ready than Events holds, changes from other goroutines keep a
// blocked Select's deadline, and a storm of concurrent calls is -race
// clean.

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

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
