//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

package selector

import (
	"syscall"
	"testing"

	"github.com/rawpoll/rawpoll/rawsys"
)

// TestReview2UringCloseWakeStolenByClone: Close wakes the Selects blocked
// on its handle with one NOP completion (wakeBlocked), counted by
// h.waiting. A Select counts itself waiting and releases mu before it
// enters the kernel; if Close's NOP is posted in that window and a
// clone's Select (which Close must not disturb, and which is not closed)
// takes mu first, the clone reaps the NOP as "no event" and waits again.
// The closed handle's Select then enters io_uring_enter with the CQ empty
// and sleeps: until its timeout, or forever with -1, although Close
// promises to wake it (epoll's wake-up is a level-triggered pipe that
// stays until the last call returns, so a late entrant still sees it).
//
// The black-box race window is a few instructions wide; this test plays
// the interleaving step by step with uringSelect's own statements.
func TestReview2UringCloseWakeStolenByClone(t *testing.T) {
	s := newUringSelector(t)
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ev := NewEvents(4)
	if err := s.Select(ev, 0); err != nil { // submit the kick poll
		t.Fatal(err)
	}
	// Select on s, up to its io_uring_enter (uringSelect: acquire, ...,
	// FlushSq, waiting++, Unlock).
	if !s.ref.acquire() {
		t.Fatal("acquire")
	}
	h, st := s.ur, s.ur.st
	st.mu.Lock()
	toSubmit := st.ring.FlushSq()
	st.queued.Store(false)
	st.enterWait(h)
	st.mu.Unlock()
	// Close from another goroutine: one NOP for the Select above.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The clone's event loop takes mu first and reaps it.
	if err := c.Select(NewEvents(4), 0); err != nil {
		t.Fatal(err)
	}
	// The Select on s enters the kernel, as uringSelect does next (with a
	// 1 s timeout here instead of -1).
	ts := rawsys.Timespec{Sec: 1}
	_, errno := rawsys.IoUringEnterTimeout(s.ref.fd, toSubmit, 1, rawsys.IORING_ENTER_GETEVENTS, &ts)
	st.mu.Lock()
	st.leaveWait(h)
	st.mu.Unlock()
	s.ref.release()
	if errno == syscall.ETIME {
		t.Fatal("the Select on the closed handle slept its whole timeout: Close's wake-up NOP was reaped by the clone's Select")
	}
}
