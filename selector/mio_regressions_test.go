//go:build unix

package selector_test

// Regressions of bugs found in mio's poll selector: they must hold on
// every backend.

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
