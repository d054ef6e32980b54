//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

package selector_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// TestReview3UringRingCycleLeaks: Register refused the ring's own file,
// but two rings that watch each other are the same loop one step longer:
// A's poll holds B's file, B's poll holds A's, and closing both Selectors
// released neither ring, nor any file their requests held (the socket
// registered with A stayed open after both Closes and its own close(2), so
// its peer never saw EOF). epoll_ctl finds such loops (ep_loop_check:
// ELOOP); io_uring has none, so a ring now refuses any io_uring file with
// EINVAL. Without the fix both Registers succeed and the read loop times
// out.
func TestReview3UringRingCycleLeaks(t *testing.T) {
	a := review2UringSelector(t)
	b := review2UringSelector(t)
	x, y := socketpair(t)
	register(t, a, x, 1, selector.Readable)
	errAB := a.Register(b.Fd(), 2, selector.Readable)
	errBA := b.Register(a.Fd(), 3, selector.Readable)
	ev := selector.NewEvents(8)
	a.Select(ev, 10*time.Millisecond) // submit the polls
	b.Select(ev, 10*time.Millisecond)
	a.Close()
	b.Close()
	unix.Close(x)
	buf := make([]byte, 8)
	eof := false
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n, err := unix.Read(y, buf); n == 0 && err == nil {
			eof = true // the rings let go of the socket
			break
		}
	}
	if !eof {
		t.Fatalf("A.Register(B.Fd()) = %v, B.Register(A.Fd()) = %v; 2 s after both Closes and close(2) the socket registered with A is still open: each ring's poll keeps the other alive", errAB, errBA)
	}
	for _, err := range []error{errAB, errBA} {
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("registering another ring: %v, want EINVAL", err)
		}
	}
}

// TestUringRegisterAnonInodes: the ring test asks io_uring_register about
// every file on the anonymous-inode device; the others there (eventfd,
// timerfd, epoll) must still register and report.
func TestUringRegisterAnonInodes(t *testing.T) {
	s := review2UringSelector(t)
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(tfd)
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ep)
	for i, fd := range []int{efd, tfd, ep} {
		if err := s.Register(fd, selector.Token(i), selector.Readable); err != nil {
			t.Errorf("Register(fd %d, kind %d): %v", fd, i, err)
		}
	}
	if _, err := unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	ev := selector.NewEvents(8)
	if err := s.Select(ev, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if ev.Len() != 1 || ev.At(0).Token() != 0 || !ev.At(0).IsReadable() {
		t.Fatalf("after an eventfd write: %d events, want token 0 readable", ev.Len())
	}
}
