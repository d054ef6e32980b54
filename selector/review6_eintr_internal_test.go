//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

package selector

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// TestReview6MillisecondFallbackEINTR: in millisecond mode (epoll_pwait,
// before Linux 5.11 and under qemu-user) Select's doc says a positive
// timeout is "rounded up to whole milliseconds", and TestMillisecondFallback
// asserts a 300 µs Select takes at least 1 ms. A signal (the runtime's
// SIGURG, which CI has seen interrupt these waits: commit 0594075) that
// lands after 300 µs but before 1 ms makes wait1 retry with the time left
// of the unrounded timeout, which is none: it polls and returns early.
func TestReview6MillisecondFallbackEINTR(t *testing.T) {
	saved := pwait2.Load()
	pwait2.Store(pwait2No)
	defer pwait2.Store(saved)
	s, err := New(WithBackend("epoll"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	ev := NewEvents(4)
	const d = 300 * time.Microsecond
	// Known millisecond mode (wait rounds), and, where the kernel has no
	// epoll_pwait2 (qemu-user, make test-arm64), a probe that finds out in
	// mid-wait (wait1 rounds).
	modes := []int32{pwait2No}
	var pe [1]rawsys.EpollEvent
	var zero rawsys.Timespec
	if _, errno := rawsys.EpollPwait2Raw(s.Fd(), &pe[0], 1, &zero); errno == syscall.ENOSYS || errno == syscall.EPERM {
		modes = append(modes, pwait2Unknown)
	} else {
		t.Log("epoll_pwait2 is here: the mid-wait fallback is covered under qemu-user only")
	}
	for _, mode := range modes {
		early, rounds := 0, 0
		var shortest time.Duration = time.Hour
		for ; rounds < 50 && early == 0; rounds++ {
			pwait2.Store(mode)
			fire := make(chan time.Time, 1)
			go func() {
				at := <-fire
				for time.Since(at) < 500*time.Microsecond { // bounded: 0.5 ms
				}
				unix.Tgkill(unix.Getpid(), tid, unix.SIGURG)
			}()
			start := time.Now()
			fire <- start
			if err := s.Select(ev, d); err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			shortest = min(shortest, el)
			if el < time.Millisecond {
				early++
			}
			time.Sleep(2 * time.Millisecond) // let the signaller finish
		}
		if early > 0 {
			t.Fatalf("Select(%v) in millisecond mode (probe state %d) returned after %v, before the 1 ms it rounds up to (a signal at 0.5 ms; %d rounds)", d, mode, shortest, rounds)
		}
	}
}
