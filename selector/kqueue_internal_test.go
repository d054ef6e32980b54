//go:build darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package selector

// kqueue internals that only a real kqueue can check (the GitHub workflow
// runs them on darwin and the BSDs): the pipe Waker used where EVFILT_USER
// is missing, forced here on any kernel; the rollback of a failed
// Register; the deletion of Close's wake-up knote.

import (
	"errors"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

func TestKqThisRow(t *testing.T) {
	if kqThis == nil || kqThis.os != runtime.GOOS {
		t.Fatalf("kqThis = %+v on %s", kqThis, runtime.GOOS)
	}
	if kqThis.pipe2 != kqHavePipe2 {
		t.Fatalf("kqKernels says pipe2 %t, the build uses pipe2 %t", kqThis.pipe2, kqHavePipe2)
	}
	if !kqReceiptsOK.Load() {
		if _, err := New(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: close-on-exec kqueue call: %q (missing at run time: %t); EVFILT_USER refused: %t",
		runtime.GOOS, kqThis.kqueueCloexec, kqNoCloexecCall.Load(), kqNoUserFilter.Load())
}

// forcePipeWakers makes NewWaker take the pipe path, as on OpenBSD before
// 7.8, for the rest of the test.
func forcePipeWakers(t *testing.T) {
	saved := kqNoUserFilter.Load()
	kqNoUserFilter.Store(true)
	t.Cleanup(func() { kqNoUserFilter.Store(saved) })
}

func newTestSelector(t *testing.T) *Selector {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// TestPipeWaker: the pipe Waker is close-on-exec and non-blocking, wakes
// with its token, and Wake after its Selector's Close is ErrClosed.
func TestPipeWaker(t *testing.T) {
	forcePipeWakers(t)
	s := newTestSelector(t)
	w, err := NewWaker(s, 77)
	if err != nil {
		t.Fatal(err)
	}
	if w.ident != 0 {
		t.Fatal("not a pipe Waker")
	}
	for _, fd := range []int{w.r.fd, w.w.fd} {
		fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		fd2, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if fl&unix.O_NONBLOCK == 0 || fd2&unix.FD_CLOEXEC == 0 {
			t.Errorf("pipe fd %d: flags %#x, fd flags %#x", fd, fl, fd2)
		}
	}
	ev := NewEvents(4)
	for range 3 {
		if err := w.Wake(); err != nil {
			t.Fatal(err)
		}
		if err := s.Select(ev, 3*time.Second); err != nil || ev.Len() != 1 || ev.At(0).Token() != 77 {
			t.Fatalf("Select after Wake: %v, %d events", err, ev.Len())
		}
	}
	s.Close()
	if err := w.Wake(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wake after the Selector's Close: %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPipeWakerCloseRace: Wakes racing two Closes return nil or ErrClosed,
// and the read end is closed once: descriptors opened afterwards (which
// reuse the numbers) survive a third Close.
func TestPipeWakerCloseRace(t *testing.T) {
	forcePipeWakers(t)
	s := newTestSelector(t)
	for range 50 {
		w, err := NewWaker(s, 5)
		if err != nil {
			t.Fatal(err)
		}
		r, wr := w.r.fd, w.w.fd
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 50 {
					if err := w.Wake(); err != nil && !errors.Is(err, ErrClosed) {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Go(func() { w.Close() })
		wg.Go(func() { w.Close() })
		wg.Wait()
		if fdOpen(r) || fdOpen(wr) {
			t.Fatalf("pipe fds %d, %d still open after Close", r, wr)
		}
		var p [2]int
		if err := unix.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if !fdOpen(p[0]) || !fdOpen(p[1]) {
			t.Fatalf("a third Close closed descriptors %v that reused the Waker's numbers", p)
		}
		unix.Close(p[0])
		unix.Close(p[1])
	}
}

// TestUserWakerCloseRace: on EVFILT_USER, a Wake racing Close never
// returns the ENOENT of a deleted knote (issue 10).
func TestUserWakerCloseRace(t *testing.T) {
	s := newTestSelector(t)
	for range 100 {
		w, err := NewWaker(s, 6)
		if err != nil {
			t.Fatal(err)
		}
		if w.ident == 0 {
			t.Skip("SKIP: this kernel has no EVFILT_USER (OpenBSD before 7.8): pipe Wakers only")
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 20 {
					if err := w.Wake(); err != nil && !errors.Is(err, ErrClosed) {
						t.Errorf("Wake racing Close: %v", err)
						return
					}
				}
			})
		}
		w.Close()
		wg.Wait()
		// The knote is gone.
		var ch [1]rawsys.Kevent_t
		ch[0].Set(w.ident, rawsys.Kq.EVFILT_USER, rawsys.Kq.EV_DELETE|rawsys.Kq.EV_RECEIPT, 0, 0, 0)
		if _, err := s.submit("check", -1, ch[:], 0, 0); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("the closed Waker's knote: EV_DELETE gave %v, want ENOENT", err)
		}
	}
}

// TestRegisterRollback: Register(Readable|Writable) of a pipe's write end
// whose reader is gone fails on the write filter where the kernel refuses
// it, and leaves no read filter behind (issue 14 item 8).
func TestRegisterRollback(t *testing.T) {
	if kqThis.deadPipeWriteOK {
		t.Skipf("SKIP: %s registers the write filter of a pipe without reader (EPIPE is tolerated): nothing fails to roll back", runtime.GOOS)
	}
	s := newTestSelector(t)
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	unix.Close(p[0])
	err := s.Register(p[1], 8, Readable|Writable)
	if err == nil {
		t.Fatal("Register succeeded on a pipe without reader")
	}
	k := &rawsys.Kq
	var ch [2]rawsys.Kevent_t
	ch[0].Set(uint64(p[1]), k.EVFILT_READ, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
	ch[1].Set(uint64(p[1]), k.EVFILT_WRITE, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
	if ok, err := s.submit("check", p[1], ch[:], syscall.ENOENT, 0); err != nil || ok != 3 || ch[0].Data() != int64(syscall.ENOENT) {
		t.Fatalf("after the failed Register (%v): deletes answered %d, %d (%v): a filter was left behind", err, ch[0].Data(), ch[1].Data(), err)
	}
}

// TestCloseWakeDeleted: the knote Close adds to wake a blocked Select is
// deleted once the closed handle's last call returns, so a clone's kqueue
// holds nothing of it.
func TestCloseWakeDeleted(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Close() })
	done := make(chan error, 1)
	go func() { done <- s.Select(NewEvents(4), -1) }()
	time.Sleep(50 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the blocked Select")
	}
	ident := kqCloseIdentBase | kqCloseIdents.Load()
	k := &rawsys.Kq
	var ch [2]rawsys.Kevent_t
	ch[0].Set(ident, k.EVFILT_USER, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
	ch[1].Set(ident, k.EVFILT_TIMER, k.EV_DELETE|k.EV_RECEIPT, 0, 0, 0)
	if ok, err := c2.submit("check", -1, ch[:], syscall.ENOENT, 0); err != nil || ok != 3 ||
		ch[0].Data() != int64(syscall.ENOENT) || ch[1].Data() != int64(syscall.ENOENT) {
		t.Fatalf("Close's wake-up knote %#x is still in the shared kqueue: %v %d %d", ident, err, ch[0].Data(), ch[1].Data())
	}
}

// TestWakeAfterSelectorClosed: Wake on a Waker whose Selector handle was
// closed is ErrClosed, even while a clone keeps the kqueue open.
func TestWakeAfterSelectorClosed(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := NewWaker(s, 9)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := w.Wake(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wake after its Selector's Close: %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestClosedSelectorsWakersInvisibleToClone: a wake pending on a Waker of
// a Selector that is then closed is not reported to a clone sharing the
// kqueue, on EVFILT_USER and on the pipe Waker: closing the handle deletes
// its Wakers' knotes.
func TestClosedSelectorsWakersInvisibleToClone(t *testing.T) {
	for _, pipe := range []bool{false, true} {
		if pipe {
			forcePipeWakers(t)
		}
		s, err := New()
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.TryClone()
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWaker(s, 42)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Wake(); err != nil {
			t.Fatal(err)
		}
		s.Close()
		ev := NewEvents(4)
		if err := c.Select(ev, 50*time.Millisecond); err != nil || ev.Len() != 0 {
			t.Fatalf("pipe Waker %t: the clone saw %d events (%v) of a closed Selector's Waker", pipe, ev.Len(), err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}
