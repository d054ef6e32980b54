//go:build unix && !(linux && (amd64 || arm64) && rawpoll_forcepoll)

package selector_test

// Behaviours the kqueue kernels differ on (issue 14), checked on every
// backend with a kernel descriptor: on epoll here, on darwin and the BSDs
// in the GitHub workflow. Each of the first four failed on some kqueue OS
// before the fix named in its comment (selector/kqueue_kernels.go cites
// the kernel source).

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// TestWakerTokenOnEveryWake: every Wake's event carries the Waker's token.
// darwin, FreeBSD, NetBSD and OpenBSD copy udata from each trigger change
// into the knote; a trigger sent with udata 0 made every event after a
// Wake report token 0 (issue 14 item 1).
func TestWakerTokenOnEveryWake(t *testing.T) {
	s := newSelector(t)
	const tok selector.Token = 0x5eed00000001
	w, err := selector.NewWaker(s, tok)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := selector.NewEvents(8)
	for i := range 3 {
		if err := w.Wake(); err != nil {
			t.Fatalf("Wake %d: %v", i, err)
		}
		if err := s.Select(ev, 3*time.Second); err != nil || ev.Len() == 0 {
			t.Fatalf("wake %d: Select = %v with %d events", i, err, ev.Len())
		}
		for e := range ev.All() {
			if e.Token() != tok {
				t.Fatalf("wake %d: event %v has token %#x, want the Waker's %#x", i, e, uint64(e.Token()), uint64(tok))
			}
		}
		expectNoEvents(t, s, 10*time.Millisecond) // coalesced, and cleared
	}
}

// TestCloseWakesBlockedSelectWithClone: with a clone keeping the kqueue
// open, Close wakes the Select blocked on the closed handle, and the
// clone, blocked meanwhile and after, sees nothing of it. FreeBSD and
// NetBSD created the wake-up knote untriggered (one EV_ADD|NOTE_TRIGGER
// change; issue 14 item 2), and the knote was never deleted, so clones saw
// a token-0 event on every Select (issue 10).
func TestCloseWakesBlockedSelectWithClone(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- s.Select(selector.NewEvents(4), -1) }()
	type result struct {
		err error
		n   int
		ev  string
	}
	clone := make(chan result, 1)
	go func() {
		ev := selector.NewEvents(4)
		err := c.Select(ev, 400*time.Millisecond)
		r := result{err: err, n: ev.Len()}
		if ev.Len() > 0 {
			r.ev = ev.At(0).String()
		}
		clone <- r
	}()
	time.Sleep(50 * time.Millisecond) // let both block
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, selector.ErrClosed) {
			t.Fatalf("blocked Select returned %v after Close, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a Select blocked on it while a clone keeps the kqueue open")
	}
	select {
	case r := <-clone:
		if r.err != nil || r.n != 0 {
			t.Fatalf("the clone's Select, blocked during Close, returned %v with %d events (%s)", r.err, r.n, r.ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the clone's 400 ms Select did not return")
	}
	for range 3 {
		expectNoEvents(t, c, 20*time.Millisecond)
	}
	if err := c.Select(selector.NewEvents(4), 0); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterPipeWithoutReader: registering the write end of a pipe whose
// reader is gone either fails (the kernel registered nothing) or reports
// the closed write side. FreeBSD and DragonFly answer EPIPE and drop the
// knote; the error was ignored, so Register returned nil and no event ever
// came (issue 14 item 5). epoll and darwin register it and report it.
func TestRegisterPipeWithoutReader(t *testing.T) {
	s := newSelector(t)
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[0])
	closeOnCleanup(t, p[1])
	nonblockCloexec(t, p[1])
	err := s.Register(p[1], 31, selector.Writable)
	if err != nil {
		var op *selector.OpError
		if !errors.As(err, &op) || op.Fd != p[1] {
			t.Fatalf("Register of a pipe without reader: %v, want an *OpError naming fd %d", err, p[1])
		}
		t.Logf("Register refused: %v", err)
		return
	}
	expectEvents(t, s, want{tok: 31, has: pWriteClosed})
}

// TestDeregisterClosedFd: Deregister of a closed descriptor is EBADF,
// registered before or not. darwin's EV_DELETE answers ENOENT for it,
// which was ignored (issue 14 item 7).
func TestDeregisterClosedFd(t *testing.T) {
	s := newSelector(t)
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[1])
	wantErrIs(t, "Deregister(closed fd, never registered)", s.Deregister(p[1]), syscall.EBADF)
	register(t, s, p[0], 32, selector.Readable)
	unix.Close(p[0])
	if s.Backend() == "io_uring" {
		// A poll request holds a reference to the file: closing the fd does
		// not end the registration (as on poll), and Deregister is what
		// ends it and lets the file go.
		if err := s.Deregister(p[0]); err != nil {
			t.Fatalf("io_uring: Deregister(registered fd, closed since): %v, want nil (it ends the registration)", err)
		}
		return
	}
	wantErrIs(t, "Deregister(registered fd, closed since)", s.Deregister(p[0]), syscall.EBADF)
}

// TestZeroValueInert: a zero Selector and a zero Waker are closed; using
// them touches no descriptor (descriptor 0 stays open).
func TestZeroValueInert(t *testing.T) {
	if _, err := unix.FcntlInt(0, unix.F_GETFD, 0); err != nil {
		t.Skipf("SKIP: descriptor 0 is not open here (%v); the test checks that Close leaves it open", err)
	}
	var s selector.Selector
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(0, unix.F_GETFD, 0); err != nil {
		t.Fatalf("a zero Selector's Close closed descriptor 0: %v", err)
	}
	if s.Fd() != -1 {
		t.Fatalf("zero Selector Fd() = %d", s.Fd())
	}
	wantErrIs(t, "zero Selector Select", s.Select(selector.NewEvents(1), 0), selector.ErrClosed)
	wantErrIs(t, "zero Selector Register", s.Register(0, 1, selector.Readable), selector.ErrClosed)
	wantErrIs(t, "zero Selector Deregister", s.Deregister(0), selector.ErrClosed)
	if _, err := s.TryClone(); !errors.Is(err, selector.ErrClosed) {
		t.Fatalf("zero Selector TryClone: %v", err)
	}
	if _, err := selector.NewWaker(&s, 1); !errors.Is(err, selector.ErrClosed) {
		t.Fatalf("NewWaker(zero Selector): %v", err)
	}
	var w selector.Waker
	wantErrIs(t, "zero Waker Wake", w.Wake(), selector.ErrClosed)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(0, unix.F_GETFD, 0); err != nil {
		t.Fatalf("a zero Waker closed descriptor 0: %v", err)
	}
}
