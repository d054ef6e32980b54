//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

package selector

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

func TestCeilMillis(t *testing.T) {
	for d, want := range map[time.Duration]int{
		1:                              1,
		time.Microsecond:               1,
		time.Millisecond:               1,
		time.Millisecond + 1:           2,
		1500 * time.Microsecond:        2,
		time.Second:                    1000,
		(1<<31 - 1) * time.Millisecond: 1<<31 - 1,
		1 << 31 * time.Millisecond:     1<<31 - 1,
		math.MaxInt64:                  1<<31 - 1,
	} {
		if got := ceilMillis(d); got != want {
			t.Errorf("ceilMillis(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestDeadlineSaturates(t *testing.T) {
	if d := deadlineAfter(math.MaxInt64); d != math.MaxInt64 {
		t.Fatalf("deadlineAfter(MaxInt64) = %d", d)
	}
	if d := deadlineAfter(time.Second); d <= nanotime() {
		t.Fatalf("deadlineAfter(1s) = %d not in the future", d)
	}
}

// TestMillisecondFallback runs timeouts through the epoll_pwait path, as on
// kernels before 5.11 and under qemu-user: a 1 ns timeout becomes 1 ms,
// never 0.
func TestMillisecondFallback(t *testing.T) {
	saved := pwait2.Load()
	pwait2.Store(pwait2No)
	defer pwait2.Store(saved)
	s, err := New(WithBackend("epoll"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := NewEvents(4)
	for _, d := range []time.Duration{time.Nanosecond, 300 * time.Microsecond, 20 * time.Millisecond} {
		start := time.Now()
		if err := s.Select(ev, d); err != nil || ev.Len() != 0 {
			t.Fatalf("Select(%v) = %v, %d", d, err, ev.Len())
		}
		el := time.Since(start)
		if floor := max(d, time.Millisecond); el < floor {
			t.Fatalf("Select(%v) in ms mode returned after %v, before %v", d, el, floor)
		}
		if el > d+2*time.Second {
			t.Fatalf("Select(%v) took %v", d, el)
		}
	}
}

// TestPwait2Probe: the first positive-timeout Select records whether the
// kernel has epoll_pwait2, and the answer matches a direct call.
func TestPwait2Probe(t *testing.T) {
	saved := pwait2.Load()
	pwait2.Store(pwait2Unknown)
	defer pwait2.Store(saved)
	s, err := New(WithBackend("epoll"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Select(NewEvents(1), time.Microsecond); err != nil {
		t.Fatal(err)
	}
	var ev [1]rawsys.EpollEvent
	var ts rawsys.Timespec
	_, errno := rawsys.EpollPwait2Raw(s.Fd(), &ev[0], 1, &ts)
	want := int32(pwait2Yes)
	if errno == syscall.ENOSYS || errno == syscall.EPERM {
		want = pwait2No
	}
	if got := pwait2.Load(); got != want {
		t.Fatalf("probe recorded %d, direct call gave errno %v", got, errno)
	}
	t.Logf("epoll_pwait2 here: %v", want == pwait2Yes)
}

// TestNotePwait2: every answer of epoll_pwait2 but ENOSYS and EPERM shows
// that it exists, EINTR included (the Select that probes can be
// interrupted and have no time left for a second call: CI saw
// TestPwait2Probe find the probe still unknown).
func TestNotePwait2(t *testing.T) {
	saved := pwait2.Load()
	defer pwait2.Store(saved)
	for _, c := range []struct {
		errno syscall.Errno
		here  bool
		want  int32
	}{
		{0, true, pwait2Yes},
		{syscall.EINTR, true, pwait2Yes},
		{syscall.EBADF, true, pwait2Yes},
		{syscall.ENOSYS, false, pwait2No},
		{syscall.EPERM, false, pwait2No},
	} {
		pwait2.Store(pwait2Unknown)
		if here := notePwait2(pwait2Unknown, c.errno); here != c.here || pwait2.Load() != c.want {
			t.Errorf("errno %v: here %v, recorded %d; want %v, %d", c.errno, here, pwait2.Load(), c.here, c.want)
		}
	}
}

// TestWakeWithFullCounter: an eventfd counter at its maximum (2^64-2) makes
// write(2) fail with EAGAIN; Wake must still succeed and produce an event.
func TestWakeWithFullCounter(t *testing.T) {
	s, err := New(WithBackend("epoll"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := NewWaker(s, 9)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	full := [8]byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if _, errno := rawsys.Write(w.ref.fd, full[:]); errno != 0 {
		t.Fatal(errno)
	}
	ev := NewEvents(4)
	if err := s.Select(ev, time.Second); err != nil || ev.Len() != 1 {
		t.Fatalf("after filling the counter: %v, %d", err, ev.Len())
	}
	if _, errno := rawsys.Write(w.ref.fd, []byte{1, 0, 0, 0, 0, 0, 0, 0}); errno != syscall.EAGAIN {
		t.Fatalf("counter not full: write gave %v", errno)
	}
	if err := w.Wake(); err != nil {
		t.Fatalf("Wake with a full counter: %v", err)
	}
	if err := s.Select(ev, time.Second); err != nil || ev.Len() != 1 || ev.At(0).Token() != 9 {
		t.Fatalf("Wake with a full counter gave %v, %d events", err, ev.Len())
	}
	if flags, _ := unix.FcntlInt(uintptr(w.ref.fd), unix.F_GETFL, 0); flags&unix.O_NONBLOCK == 0 {
		t.Fatal("waker eventfd is blocking")
	}
	if flags, _ := unix.FcntlInt(uintptr(w.ref.fd), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
		t.Fatal("waker eventfd lacks FD_CLOEXEC")
	}
}

// TestCloseDefersWhileInUse: Close during a call leaves the descriptor open
// until the call releases it, and exactly one close happens.
func TestCloseDefersWhileInUse(t *testing.T) {
	s, err := New(WithBackend("epoll"))
	if err != nil {
		t.Fatal(err)
	}
	fd := s.ref.fd
	if !s.ref.acquire() {
		t.Fatal("acquire on an open selector failed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		t.Fatalf("fd closed while a call still held it: %v", err)
	}
	if s.ref.acquire() {
		t.Fatal("acquire succeeded after Close")
	}
	if s.Fd() != -1 {
		t.Fatal("Fd() after Close")
	}
	s.ref.release() // the last holder closes it
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("fd still open after the last release: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEpollFlagsForInterest(t *testing.T) {
	for in, want := range map[Interest]uint32{
		Readable:                       rawsys.EPOLLET | rawsys.EPOLLIN | rawsys.EPOLLRDHUP,
		Writable:                       rawsys.EPOLLET | rawsys.EPOLLOUT,
		Priority:                       rawsys.EPOLLET | rawsys.EPOLLPRI,
		Readable | Writable | Priority: rawsys.EPOLLET | rawsys.EPOLLIN | rawsys.EPOLLRDHUP | rawsys.EPOLLOUT | rawsys.EPOLLPRI,
	} {
		got, err := epollInterest(in)
		if err != nil || got != want {
			t.Errorf("epollInterest(%v) = %#x, %v; want %#x", in, got, err, want)
		}
	}
}

// TestAccessorTable checks every accessor against mio's epoll mapping on
// hand-built records, including the combinations that must not be false
// positives.
func TestAccessorTable(t *testing.T) {
	const (
		IN, PRI, OUT, ERR, HUP, RDHUP = rawsys.EPOLLIN, rawsys.EPOLLPRI, rawsys.EPOLLOUT, rawsys.EPOLLERR, rawsys.EPOLLHUP, rawsys.EPOLLRDHUP
	)
	type acc struct{ r, w, e, rc, wc, p bool }
	for flags, want := range map[uint32]acc{
		IN:              {r: true},
		PRI:             {r: true, p: true},
		OUT:             {w: true},
		RDHUP:           {},
		IN | RDHUP:      {r: true, rc: true},
		HUP:             {rc: true, wc: true},
		ERR:             {e: true, wc: true},
		OUT | ERR:       {w: true, e: true, wc: true},
		IN | ERR:        {r: true, e: true},
		IN | OUT | HUP:  {r: true, w: true, rc: true, wc: true},
		OUT | ERR | HUP: {w: true, e: true, rc: true, wc: true},
	} {
		var raw rawsys.EpollEvent
		raw.Set(flags, 77)
		e := (*Event)(&raw)
		got := acc{e.IsReadable(), e.IsWritable(), e.IsError(), e.IsReadClosed(), e.IsWriteClosed(), e.IsPriority()}
		if got != want || e.Token() != 77 || e.IsAIO() || e.IsLIO() {
			t.Errorf("flags %s: got %+v, want %+v", flagNames(uint64(flags), epollFlagNames), got, want)
		}
	}
}

// TestSetBusyPoll sets busy-poll parameters through the Selector and reads
// them back with EPIOCGPARAMS.
func TestSetBusyPoll(t *testing.T) {
	s, err := New(WithBackend("epoll"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.SetBusyPoll(50, 16, true)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("SKIP: %v (kernel before 6.9, or qemu-user)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var got rawsys.EpollParams
	if _, errno := rawsys.Ioctl(s.Fd(), rawsys.EPIOCGPARAMS, unsafe.Pointer(&got)); errno != 0 {
		t.Fatal(errno)
	}
	if want := (rawsys.EpollParams{BusyPollUsecs: 50, BusyPollBudget: 16, PreferBusyPoll: 1}); got != want {
		t.Fatalf("EPIOCGPARAMS read back %+v, want %+v", got, want)
	}
	if err := s.SetBusyPoll(0, 0, false); err != nil {
		t.Fatal(err)
	}
	if _, errno := rawsys.Ioctl(s.Fd(), rawsys.EPIOCGPARAMS, unsafe.Pointer(&got)); errno != 0 || got != (rawsys.EpollParams{}) {
		t.Fatalf("after turning it off: %+v, %v", got, errno)
	}
	s.Close()
	if err := s.SetBusyPoll(1, 1, false); err != ErrClosed {
		t.Fatalf("SetBusyPoll after Close: %v", err)
	}
}

// TestCloseWakeNotSeenByCloneWhileInFlight holds a reference on s as an
// in-flight call would, so that Close must add its wake-up and cannot
// remove it yet: a clone's Selects, zero-timeout and timed, see nothing of
// it. Before the fix the clone got Event{token: 0, readable} from every
// Select until the release.
func TestCloseWakeNotSeenByCloneWhileInFlight(t *testing.T) {
	s, err := New(WithBackend("epoll"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !s.ref.acquire() {
		t.Fatal("acquire on an open selector failed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.ref.also < 0 {
		t.Fatal("Close with a call in flight added no wake-up")
	}
	ev := NewEvents(8)
	for range 10 {
		if err := c.Select(ev, 0); err != nil || ev.Len() != 0 {
			t.Fatalf("clone Select(0) while the wake-up exists: %v, %d events (%v)", err, ev.Len(), ev.At(0))
		}
	}
	start := time.Now()
	if err := c.Select(ev, 20*time.Millisecond); err != nil || ev.Len() != 0 {
		t.Fatalf("clone Select(20ms) while the wake-up exists: %v, %d events", err, ev.Len())
	}
	if el := time.Since(start); el < 10*time.Millisecond {
		t.Fatalf("clone Select(20ms) returned after %v", el)
	}
	// A real event still comes through while the wake-up exists.
	w, err := NewWaker(c, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Wake()
	if err := c.Select(ev, time.Second); err != nil || ev.Len() != 1 || ev.At(0).Token() != 5 {
		t.Fatalf("clone Select with a wake: %v, %d events", err, ev.Len())
	}
	s.ref.release() // the last holder closes the epoll fd and the wake-up pipe
	if _, err := unix.FcntlInt(uintptr(s.ref.also), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("wake-up pipe still open after the last release: %v", err)
	}
}

// TestUnknownBackendFromEnv: RAWPOLL_BACKEND with a name no build knows
// is an error that names the variable; WithBackend overrides it.
func TestUnknownBackendFromEnv(t *testing.T) {
	t.Setenv("RAWPOLL_BACKEND", "io-uring")
	s, err := New()
	if !errors.Is(err, ErrUnknownBackend) || !strings.Contains(fmt.Sprint(err), "RAWPOLL_BACKEND") {
		t.Fatalf("New() with RAWPOLL_BACKEND=io-uring: %v, %v; want ErrUnknownBackend naming the variable", s, err)
	}
	s, err = New(WithBackend("epoll"))
	if err != nil {
		t.Fatalf("WithBackend(epoll) with a bad RAWPOLL_BACKEND: %v", err)
	}
	s.Close()
}
