//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

package selector

import (
	"testing"
	"time"
)

// TestReview7MillisecondFallbackCloseWake: in millisecond mode a positive
// timeout is "rounded up to whole milliseconds" (Select's doc). wait1 now
// rounds its own deadline, but wait's loop that retries after Close
// wake-ups of a clone sharing the instance keeps the unrounded deadline:
// while another Selector's Close is in progress (its wake-up pipe stays
// level-triggered in the shared instance until the last call on that
// Selector leaves), a clone's Select(300 µs) spins on the wake-ups and
// returns at 300 µs, before the millisecond it rounds up to. The call in
// flight on the closing Selector is simulated by holding its reference.
func TestReview7MillisecondFallbackCloseWake(t *testing.T) {
	saved := pwait2.Load()
	pwait2.Store(pwait2No)
	defer pwait2.Store(saved)
	const d = 300 * time.Microsecond
	early, rounds := 0, 0
	var shortest time.Duration = time.Hour
	for ; rounds < 20; rounds++ {
		s, err := New(WithBackend("epoll"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.TryClone()
		if err != nil {
			t.Fatal(err)
		}
		if !s.ref.acquire() { // a call in flight on s
			t.Fatal("acquire failed")
		}
		if err := s.Close(); err != nil { // adds the wake-up, cannot destroy yet
			t.Fatal(err)
		}
		ev := NewEvents(4)
		start := time.Now()
		err = c.Select(ev, d)
		el := time.Since(start)
		s.ref.release() // the call leaves: the instance loses the wake-up
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Len() != 0 {
			t.Fatalf("clone saw %d events", ev.Len())
		}
		shortest = min(shortest, el)
		if el < time.Millisecond {
			early++
		}
	}
	if early > 0 {
		t.Fatalf("Select(%v) in millisecond mode returned after %v (%d of %d rounds before 1 ms) while a clone's Close was in progress", d, shortest, early, rounds)
	}
}
