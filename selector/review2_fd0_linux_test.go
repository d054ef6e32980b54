//go:build linux && (amd64 || arm64)

package selector_test

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// TestReview2CloseWakeOnFdZero: a daemon often runs with descriptor 0
// closed. epoll's Close wakes a blocked Select with a pipe whose read end
// it keeps in fdRef.also, closed with the epoll descriptor "if also > 0":
// 0 is the "none" value. When the pipe's read end is descriptor 0 (the
// lowest free number), it is never closed: the descriptor leaks, and the
// level-triggered wake-up stays in the epoll instance the clones share,
// so every Select on a clone spins (epoll_wait returns the dropped wake-up
// at once, wait yields and tries again) until its timeout, at full CPU.
func TestReview2CloseWakeOnFdZero(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	saved, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		t.Skipf("SKIP: descriptor 0 is not open here, cannot free it for the test: %v", err)
	}
	unix.Close(0)
	defer func() {
		unix.Dup3(saved, 0, 0) // replaces a leaked pipe, which leaves the epoll instance with it
		unix.Close(saved)
	}()
	done := make(chan error, 1)
	go func() { done <- s.Select(selector.NewEvents(4), -1) }()
	time.Sleep(50 * time.Millisecond) // let it block
	s.Close()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not wake the blocked Select")
	}
	var st unix.Stat_t
	if unix.Fstat(0, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return // descriptor 0 was not the wake-up pipe (or was closed): nothing leaked
	}
	ev := selector.NewEvents(4)
	var ru0, ru1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	start := time.Now()
	c.Select(ev, 200*time.Millisecond)
	wall := time.Since(start)
	unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	t.Fatalf("%s: after Close returned and its Select came back, descriptor 0 is still the wake-up pipe (leaked); a clone's Select(200ms) took %v of CPU in %v", s.Backend(), cpu, wall)
}
