//go:build unix

package selector_test

// Regressions of the defects a line-by-line review confirmed (issue 10),
// one test each, run on every backend. Each failed on the code before its
// fix (commit 23c066a), as its comment says.

import (
	"errors"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// TestFdBeyondInt32IsEBADF: the kernel takes a C int, so 1<<32|fd would be
// truncated to fd and register, deregister or re-arm it. Every number
// outside [0, MaxInt32] is EBADF without a system call. Failed on epoll
// and poll before the fix: Register(1<<32|fd) registered fd and delivered
// its events.
func TestFdBeyondInt32IsEBADF(t *testing.T) {
	if strconv.IntSize < 64 {
		t.Skip("SKIP: int is 32 bits here: no Go int beyond int32")
	}
	s := newSelector(t)
	r, w := pipe(t)
	r64 := int64(r) // the values below do not fit a 32-bit int: built at run time
	for _, bad := range []int{int(1<<32 | r64), int(1<<31 | r64), -1, int(-(1 << 32) | r64)} {
		wantErrIs(t, "Register("+strconv.Itoa(bad)+")", s.Register(bad, 1, selector.Readable), syscall.EBADF)
		wantErrIs(t, "Reregister("+strconv.Itoa(bad)+")", s.Reregister(bad, 1, selector.Readable), syscall.EBADF)
		wantErrIs(t, "Deregister("+strconv.Itoa(bad)+")", s.Deregister(bad), syscall.EBADF)
		wantErrIs(t, "WouldBlock("+strconv.Itoa(bad)+")", s.WouldBlock(bad, selector.Readable), syscall.EBADF)
	}
	write(t, w, []byte("x"))
	expectNoEvents(t, s, 20*time.Millisecond) // fd r itself was never registered
	// And the real number still registers: the check is on the range only.
	register(t, s, r, 2, selector.Readable)
	expectEvents(t, s, want{tok: 2, has: pReadable})
}

// TestStaleWakerAfterSelectorClose: a Waker made on s, s closed while a
// clone keeps the registrations alive, then the Waker closed. Its entry
// must be gone from the shared set: on poll, before the fix, it stayed
// marked as a waker (Waker.Close got ErrClosed from the closed handle), so
// a pipe reusing the eventfd's number was reported with the waker's token
// and 8 of its bytes were read and lost; without reuse, the closed
// eventfd's POLLNVAL was reported as a wake on every Select (50 of 50).
func TestStaleWakerAfterSelectorClose(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const wakeTok = selector.Token(1 << 40)
	wk, err := selector.NewWaker(s, wakeTok)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wk.Close(); err != nil {
		t.Fatalf("Waker.Close after its Selector's Close: %v", err)
	}
	ev := selector.NewEvents(8)
	stale := 0
	for range 50 {
		if err := c.Select(ev, 0); err != nil {
			t.Fatal(err)
		}
		for e := range ev.All() {
			if e.Token() == wakeTok {
				stale++
			}
		}
	}
	if stale != 0 {
		t.Fatalf("the closed Waker was reported %d times in 50 Selects of the clone", stale)
	}
	// A pipe now very likely takes the eventfd's number.
	r, w := pipe(t)
	register(t, c, r, 7, selector.Readable)
	msg := []byte("0123456789abcdef")
	write(t, w, msg)
	seen := expectEvents(t, c, want{tok: 7, has: pReadable})
	if _, ok := seen[wakeTok]; ok {
		t.Fatalf("the closed Waker's token was reported for a reused number: %v", seen)
	}
	if n := drain(t, r); n != len(msg) {
		t.Fatalf("read %d of the %d bytes written: the rest was eaten", n, len(msg))
	}
}

// TestCloseWakeInvisibleToClone: Close wakes the Selects blocked on the
// closed Selector, and a clone sharing the kernel object must not see
// anything of it. Before the fix, epoll's Close added an eventfd with
// token 0 (the README's listener token) that a clone's Select reported
// until the closed handle's in-flight call returned.
func TestCloseWakeInvisibleToClone(t *testing.T) {
	for round := range 20 {
		s, err := selector.New()
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.TryClone()
		if err != nil {
			t.Fatal(err)
		}
		blocked := make(chan error, 1)
		go func() { blocked <- s.Select(selector.NewEvents(4), -1) }()
		time.Sleep(5 * time.Millisecond) // in the kernel, usually
		s.Close()
		ev := selector.NewEvents(8)
		within(t, 10*time.Second, "200 Select(0) on the clone", func() error {
			for range 200 {
				if err := c.Select(ev, 0); err != nil {
					return err
				}
				if ev.Len() != 0 {
					return errorf("round %d: the clone saw %d events with nothing registered: %v", round, ev.Len(), ev.At(0))
				}
			}
			return nil
		})
		select {
		case err := <-blocked:
			wantErrIs(t, "blocked Select after Close", err, selector.ErrClosed)
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not wake the blocked Select")
		}
		// A clone's blocking Select is not woken by the other's Close.
		if err := c.Select(ev, 10*time.Millisecond); err != nil || ev.Len() != 0 {
			t.Fatalf("clone after the original's Close: %v, %d events", err, ev.Len())
		}
		c.Close()
	}
}

// TestCloseOfOneHandleWakesItsSelect: closing one of several Selectors on
// the same registrations wakes the Select blocked on it, and only it.
// Before the fix, a poll clone's Select(-1) stayed blocked after the
// clone's Close while the original was open.
func TestCloseOfOneHandleWakesItsSelect(t *testing.T) {
	s := newSelector(t)
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	onClone := make(chan error, 1)
	onOrig := make(chan error, 1)
	go func() { onClone <- c.Select(selector.NewEvents(4), -1) }()
	go func() { onOrig <- s.Select(selector.NewEvents(4), 3*time.Second) }()
	time.Sleep(30 * time.Millisecond)
	c.Close()
	select {
	case err := <-onClone:
		wantErrIs(t, "Select on the closed clone", err, selector.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("the clone's Close did not wake the Select blocked on it")
	}
	select {
	case err := <-onOrig:
		t.Fatalf("the Select on the open original returned early: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	wk, err := selector.NewWaker(s, 9)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.Close()
	wk.Wake()
	select {
	case err := <-onOrig:
		if err != nil {
			t.Fatalf("the original's Select: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the original's Select did not see the wake")
	}
}

// TestConcurrentSelectsDoNotSerialize: while one goroutine is in
// Select(ev, -1), a zero-timeout Select returns at once and a timed one by
// its timeout, through the same Selector and through a clone. Before the
// fix, poll held a lock across ppoll and both waited for the first Select.
func TestConcurrentSelectsDoNotSerialize(t *testing.T) {
	for _, viaClone := range []bool{false, true} {
		t.Run("clone="+strconv.FormatBool(viaClone), func(t *testing.T) {
			s := newSelector(t)
			wk, err := selector.NewWaker(s, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer wk.Close()
			blocked := make(chan error, 1)
			go func() { blocked <- s.Select(selector.NewEvents(4), -1) }()
			time.Sleep(30 * time.Millisecond)
			sel := s
			if viaClone {
				if sel, err = s.TryClone(); err != nil {
					t.Fatal(err)
				}
				defer sel.Close()
			}
			done := make(chan error, 1)
			go func() { done <- sel.Select(selector.NewEvents(4), 0) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Select(0) blocked behind another goroutine's Select(-1)")
			}
			start := time.Now()
			go func() { done <- sel.Select(selector.NewEvents(4), 20*time.Millisecond) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				if el := time.Since(start); el < 10*time.Millisecond {
					t.Fatalf("Select(20ms) returned after %v", el)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Select(20ms) blocked behind another goroutine's Select(-1)")
			}
			wk.Wake()
			select {
			case err := <-blocked:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the blocked Select missed the wake")
			}
		})
	}
}

// TestWouldBlockArguments: WouldBlock answers ErrClosed after Close (epoll
// returned nil before the fix), EBADF for a bad number and
// ErrInvalidInterest for Interest 0, on every backend, and nil for a
// registered or unregistered fd.
func TestWouldBlockArguments(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	r, _ := pipe(t)
	if err := s.WouldBlock(r, selector.Readable); err != nil {
		t.Fatalf("WouldBlock(unregistered): %v", err)
	}
	register(t, s, r, 1, selector.Readable|selector.Writable)
	for _, in := range []selector.Interest{selector.Readable, selector.Writable, selector.Readable | selector.Writable} {
		if err := s.WouldBlock(r, in); err != nil {
			t.Fatalf("WouldBlock(%v): %v", in, err)
		}
	}
	wantErrIs(t, "WouldBlock(interest 0)", s.WouldBlock(r, 0), selector.ErrInvalidInterest)
	wantErrIs(t, "WouldBlock(interest 0x80)", s.WouldBlock(r, 0x80), selector.ErrInvalidInterest)
	s.Close()
	wantErrIs(t, "WouldBlock after Close", s.WouldBlock(r, selector.Readable), selector.ErrClosed)
	wantErrIs(t, "WouldBlock(-1) after Close", s.WouldBlock(-1, 0), selector.ErrClosed)
}

// TestZeroValuesAreInert: a zero Selector and a zero Waker are closed:
// every method returns ErrClosed (Close, nil) and no system call is made.
// Before the fix, a zero epoll Selector's Close closed descriptor 0.
func TestZeroValuesAreInert(t *testing.T) {
	// Make sure descriptor 0 is open, so that a close of it shows.
	if _, err := unix.FcntlInt(0, unix.F_GETFD, 0); err != nil {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if fd != 0 {
			unix.Close(fd)
			t.Fatalf("descriptor 0 is closed and /dev/null got %d", fd)
		}
	}
	var s selector.Selector
	ev := selector.NewEvents(4)
	r, _ := pipe(t)
	wantErrIs(t, "zero Select", s.Select(ev, 0), selector.ErrClosed)
	wantErrIs(t, "zero Select(1ms)", s.Select(ev, time.Millisecond), selector.ErrClosed)
	wantErrIs(t, "zero Register", s.Register(r, 1, selector.Readable), selector.ErrClosed)
	wantErrIs(t, "zero Reregister", s.Reregister(r, 1, selector.Readable), selector.ErrClosed)
	wantErrIs(t, "zero Deregister", s.Deregister(r), selector.ErrClosed)
	wantErrIs(t, "zero WouldBlock", s.WouldBlock(r, selector.Readable), selector.ErrClosed)
	if _, err := s.TryClone(); !errors.Is(err, selector.ErrClosed) {
		t.Fatalf("zero TryClone: %v", err)
	}
	if _, err := selector.NewWaker(&s, 1); !errors.Is(err, selector.ErrClosed) {
		t.Fatalf("NewWaker(zero Selector): %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("zero Close: %v", err)
	}
	if s.Fd() != -1 {
		t.Fatalf("zero Fd() = %d", s.Fd())
	}
	var w selector.Waker
	wantErrIs(t, "zero Wake", w.Wake(), selector.ErrClosed)
	if err := w.Close(); err != nil {
		t.Fatalf("zero Waker Close: %v", err)
	}
	if _, err := unix.FcntlInt(0, unix.F_GETFD, 0); err != nil {
		t.Fatalf("descriptor 0 was closed by a zero value's Close: %v", err)
	}
}

// TestWakeAfterSelectorClose: Wake on a Waker whose Selector was closed
// returns ErrClosed (it returned nil before, waking nobody), even while a
// clone is open; Close still releases the Waker.
func TestWakeAfterSelectorClose(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := selector.NewWaker(s, 51)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	wantErrIs(t, "Wake after the Selector's Close", w.Wake(), selector.ErrClosed)
	if err := w.Close(); err != nil {
		t.Fatalf("Waker.Close after Selector.Close: %v", err)
	}
	expectNoEvents(t, c, 10*time.Millisecond)
}

// TestDeregisterThenCloseClosesTheSocket: after Deregister and close, the
// socket is closed for real (its peer reads end of file), even when the
// registration was busy with a wake-up at that moment. On io_uring a
// POLL_REMOVE that finds the poll busy fails with -EALREADY and leaves it
// armed, holding the file: before the fix (an ASYNC_CANCEL instead) the
// peer waited for ever in about 1 of 10 runs of sock's echo load test.
func TestDeregisterThenCloseClosesTheSocket(t *testing.T) {
	s := newSelector(t)
	lfd, port := tcpListener(t)
	for round := range 100 {
		client := tcpConnect(t, port)
		server := accept(t, lfd)
		// The registration is made, and its poll submitted, by another
		// thread, which then stays busy in user space: on io_uring a
		// wake-up's completion work waits for that thread (cooperative
		// task work), so the poll is busy when Deregister comes.
		submitted, spun := make(chan struct{}), make(chan struct{})
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			register(t, s, server, selector.Token(round), selector.Readable|selector.Writable)
			s.Select(selector.NewEvents(16), 0)
			close(submitted)
			for end := time.Now().Add(2 * time.Millisecond); time.Now().Before(end); {
			}
			close(spun)
		}()
		<-submitted
		unix.Write(client, make([]byte, 512)) // a wake-up for the poll
		if err := s.Deregister(server); err != nil {
			t.Fatal(err)
		}
		unix.Close(server)
		<-spun
		// The peer sees the end: EOF or a reset (its data was unread).
		buf := make([]byte, 4096)
		closed := false
		ev := selector.NewEvents(16)
		for deadline := time.Now().Add(5 * time.Second); !closed && time.Now().Before(deadline); {
			n, err := unix.Read(client, buf)
			switch {
			case n == 0 && err == nil, err == unix.ECONNRESET, err == unix.EPIPE:
				closed = true
			case err == unix.EAGAIN:
				s.Select(ev, time.Millisecond) // a Select, as an event loop would go on making
			}
		}
		if !closed {
			t.Fatalf("round %d: the peer never saw the socket closed after Deregister and close", round)
		}
		unix.Close(client)
	}
}
