//go:build amd64 || arm64

package rawsys

import (
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestEpollEventLayout(t *testing.T) {
	var ours EpollEvent
	var theirs unix.EpollEvent
	if got, want := unsafe.Sizeof(ours), unsafe.Sizeof(theirs); got != want || got != SizeofEpollEvent {
		t.Fatalf("sizeof EpollEvent = %d, x/sys %d, SizeofEpollEvent %d", got, want, SizeofEpollEvent)
	}
	if got, want := unsafe.Offsetof(ours.events), unsafe.Offsetof(theirs.Events); got != want {
		t.Fatalf("events offset %d, x/sys %d", got, want)
	}
	if got, want := unsafe.Offsetof(ours.data), unsafe.Offsetof(theirs.Fd); got != want {
		t.Fatalf("data offset %d, x/sys Fd offset %d", got, want)
	}
	wantOff := map[string]uintptr{"amd64": 4, "arm64": 8}[runtime.GOARCH]
	if unsafe.Offsetof(ours.data) != wantOff {
		t.Fatalf("data offset %d on %s, want %d", unsafe.Offsetof(ours.data), runtime.GOARCH, wantOff)
	}
	// The same bytes seen through both views.
	ours.Set(0x80002001, 0x1122334455667788)
	theirs = *(*unix.EpollEvent)(unsafe.Pointer(&ours))
	if theirs.Events != 0x80002001 || uint32(theirs.Fd) != 0x55667788 || uint32(theirs.Pad) != 0x11223344 {
		t.Fatalf("x/sys view of our event: %+v", theirs)
	}
	if unsafe.Sizeof(PollFd{}) != unsafe.Sizeof(unix.PollFd{}) || unsafe.Sizeof(Timespec{}) != 16 {
		t.Fatalf("PollFd %d (x/sys %d), Timespec %d", unsafe.Sizeof(PollFd{}), unsafe.Sizeof(unix.PollFd{}), unsafe.Sizeof(Timespec{}))
	}
	if unsafe.Sizeof(EpollParams{}) != 8 {
		t.Fatalf("EpollParams is %d bytes, kernel's struct epoll_params is 8", unsafe.Sizeof(EpollParams{}))
	}
}

func TestConstantsMatchXSys(t *testing.T) {
	pairs := []struct {
		name       string
		ours, xsys int64
	}{
		{"EPOLL_CLOEXEC", EPOLL_CLOEXEC, unix.EPOLL_CLOEXEC},
		{"EPOLL_CTL_ADD", EPOLL_CTL_ADD, unix.EPOLL_CTL_ADD},
		{"EPOLL_CTL_DEL", EPOLL_CTL_DEL, unix.EPOLL_CTL_DEL},
		{"EPOLL_CTL_MOD", EPOLL_CTL_MOD, unix.EPOLL_CTL_MOD},
		{"EPOLLIN", EPOLLIN, unix.EPOLLIN},
		{"EPOLLPRI", EPOLLPRI, unix.EPOLLPRI},
		{"EPOLLOUT", EPOLLOUT, unix.EPOLLOUT},
		{"EPOLLERR", EPOLLERR, unix.EPOLLERR},
		{"EPOLLHUP", EPOLLHUP, unix.EPOLLHUP},
		{"EPOLLRDNORM", EPOLLRDNORM, unix.EPOLLRDNORM},
		{"EPOLLRDBAND", EPOLLRDBAND, unix.EPOLLRDBAND},
		{"EPOLLWRNORM", EPOLLWRNORM, unix.EPOLLWRNORM},
		{"EPOLLWRBAND", EPOLLWRBAND, unix.EPOLLWRBAND},
		{"EPOLLMSG", EPOLLMSG, unix.EPOLLMSG},
		{"EPOLLRDHUP", EPOLLRDHUP, unix.EPOLLRDHUP},
		{"EPOLLEXCLUSIVE", EPOLLEXCLUSIVE, unix.EPOLLEXCLUSIVE},
		{"EPOLLWAKEUP", EPOLLWAKEUP, unix.EPOLLWAKEUP},
		{"EPOLLONESHOT", EPOLLONESHOT, unix.EPOLLONESHOT},
		{"EPOLLET", EPOLLET, int64(uint32(unix.EPOLLET))},
		{"EFD_NONBLOCK", EFD_NONBLOCK, unix.EFD_NONBLOCK},
		{"EFD_CLOEXEC", EFD_CLOEXEC, unix.EFD_CLOEXEC},
		{"POLLIN", POLLIN, unix.POLLIN},
		{"POLLPRI", POLLPRI, unix.POLLPRI},
		{"POLLOUT", POLLOUT, unix.POLLOUT},
		{"POLLERR", POLLERR, unix.POLLERR},
		{"POLLHUP", POLLHUP, unix.POLLHUP},
		{"POLLNVAL", POLLNVAL, unix.POLLNVAL},
		{"POLLRDHUP", POLLRDHUP, unix.POLLRDHUP},
	}
	for _, p := range pairs {
		if p.ours != p.xsys {
			t.Errorf("%s = %#x, x/sys has %#x", p.name, p.ours, p.xsys)
		}
	}
}

// newEpoll creates an epoll instance through the stub and closes it at the
// end of the test.
func newEpoll(t testing.TB) int {
	t.Helper()
	epfd, errno := EpollCreate1(EPOLL_CLOEXEC)
	if errno != 0 {
		t.Fatalf("EpollCreate1: %v", errno)
	}
	t.Cleanup(func() { unix.Close(epfd) })
	return epfd
}

func newEventfd(t testing.TB) int {
	t.Helper()
	fd, errno := Eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK)
	if errno != 0 {
		t.Fatalf("Eventfd2: %v", errno)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func fdFlags(t *testing.T, fd int) (fdflags, flflags int) {
	t.Helper()
	fdflags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	flflags, err = unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fdflags, flflags
}

func TestEpollCreate1AndEventfd2Flags(t *testing.T) {
	epfd := newEpoll(t)
	if fdf, _ := fdFlags(t, epfd); fdf&unix.FD_CLOEXEC == 0 {
		t.Errorf("epoll fd %d has no FD_CLOEXEC", epfd)
	}
	efd := newEventfd(t)
	fdf, flf := fdFlags(t, efd)
	if fdf&unix.FD_CLOEXEC == 0 || flf&unix.O_NONBLOCK == 0 {
		t.Errorf("eventfd %d: fd flags %#x, status flags %#x; want CLOEXEC and NONBLOCK", efd, fdf, flf)
	}
	if _, errno := EpollCreate1(0x7fff0000); errno != syscall.EINVAL {
		t.Errorf("EpollCreate1(bad flags): errno %v, want EINVAL", errno)
	}
	if _, errno := Eventfd2(0, 0x7fff0000); errno != syscall.EINVAL {
		t.Errorf("Eventfd2(bad flags): errno %v, want EINVAL", errno)
	}
}

// TestTokenRoundTrip registers an eventfd with a 64-bit token that uses
// every byte, makes it ready, and reads the token back from the buffer the
// kernel wrote, through every wait stub.
func TestTokenRoundTrip(t *testing.T) {
	const token uint64 = 0xfedcba9876543210
	epfd := newEpoll(t)
	efd := newEventfd(t)
	var ev EpollEvent
	ev.Set(EPOLLIN|EPOLLET, token)
	if errno := EpollCtl(epfd, EPOLL_CTL_ADD, efd, &ev); errno != 0 {
		t.Fatalf("EpollCtl ADD: %v", errno)
	}
	if errno := EpollCtl(epfd, EPOLL_CTL_ADD, efd, &ev); errno != syscall.EEXIST {
		t.Fatalf("EpollCtl ADD twice: errno %v, want EEXIST", errno)
	}
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	var zero Timespec
	waits := []struct {
		name string
		wait func(buf []EpollEvent) (int, syscall.Errno)
	}{
		{"EpollPwaitRaw", func(b []EpollEvent) (int, syscall.Errno) { return EpollPwaitRaw(epfd, &b[0], len(b), 0) }},
		{"EpollPwait", func(b []EpollEvent) (int, syscall.Errno) { return EpollPwait(epfd, &b[0], len(b), 1000) }},
		{"EpollPwait2Raw", func(b []EpollEvent) (int, syscall.Errno) { return EpollPwait2Raw(epfd, &b[0], len(b), &zero) }},
		{"EpollPwait2", func(b []EpollEvent) (int, syscall.Errno) {
			ts := Timespec{Sec: 1}
			return EpollPwait2(epfd, &b[0], len(b), &ts)
		}},
	}
	for _, w := range waits {
		if n, errno := Write(efd, one); n != 8 || errno != 0 {
			t.Fatalf("Write(eventfd) = %d, %v", n, errno)
		}
		buf := make([]EpollEvent, 4)
		n, errno := w.wait(buf)
		if errno == syscall.ENOSYS && (w.name == "EpollPwait2" || w.name == "EpollPwait2Raw") {
			t.Logf("%s: ENOSYS (kernel or emulator without epoll_pwait2); reading the event with EpollPwaitRaw", w.name)
			n, errno = EpollPwaitRaw(epfd, &buf[0], len(buf), 0)
		}
		if errno != 0 || n != 1 {
			t.Fatalf("%s = %d, %v; want 1 event", w.name, n, errno)
		}
		if got := buf[0].Data(); got != token {
			t.Fatalf("%s: token %#x, want %#x", w.name, got, token)
		}
		if buf[0].Events()&EPOLLIN == 0 {
			t.Fatalf("%s: events %#x lack EPOLLIN", w.name, buf[0].Events())
		}
		var drain [8]byte
		if n, errno := Read(efd, drain[:]); n != 8 || errno != 0 || drain[0] != 1 {
			t.Fatalf("Read(eventfd) = %d, %v, %v", n, errno, drain)
		}
	}
	// Drained and edge-triggered: nothing more.
	buf := make([]EpollEvent, 4)
	if n, errno := EpollPwaitRaw(epfd, &buf[0], len(buf), 0); n != 0 || errno != 0 {
		t.Fatalf("after drain: %d, %v", n, errno)
	}
	// Read on an empty non-blocking eventfd: EAGAIN, not a block.
	var drain [8]byte
	if _, errno := Read(efd, drain[:]); errno != syscall.EAGAIN {
		t.Fatalf("Read(empty eventfd): %v, want EAGAIN", errno)
	}
	ev.Set(EPOLLOUT, 7)
	if errno := EpollCtl(epfd, EPOLL_CTL_MOD, efd, &ev); errno != 0 {
		t.Fatalf("EpollCtl MOD: %v", errno)
	}
	if n, _ := EpollPwaitRaw(epfd, &buf[0], len(buf), 0); n != 1 || buf[0].Data() != 7 || buf[0].Events()&EPOLLOUT == 0 {
		t.Fatalf("after MOD: n=%d data=%d events=%#x", n, buf[0].Data(), buf[0].Events())
	}
	if errno := EpollCtl(epfd, EPOLL_CTL_DEL, efd, nil); errno != 0 {
		t.Fatalf("EpollCtl DEL: %v", errno)
	}
	if errno := EpollCtl(epfd, EPOLL_CTL_DEL, efd, nil); errno != syscall.ENOENT {
		t.Fatalf("EpollCtl DEL twice: %v, want ENOENT", errno)
	}
	if _, errno := EpollPwaitRaw(-1, &buf[0], len(buf), 0); errno != syscall.EBADF {
		t.Fatalf("EpollPwaitRaw(-1): %v, want EBADF", errno)
	}
	if _, errno := EpollPwaitRaw(epfd, &buf[0], 0, 0); errno != syscall.EINVAL {
		t.Fatalf("EpollPwaitRaw(maxevents 0): %v, want EINVAL", errno)
	}
}

func TestPpoll(t *testing.T) {
	efd := newEventfd(t)
	fds := []PollFd{{Fd: int32(efd), Events: POLLIN | POLLOUT}, {Fd: -1}}
	var zero Timespec
	n, errno := PpollRaw(&fds[0], len(fds), &zero)
	if errno != 0 || n != 1 || fds[0].Revents != POLLOUT || fds[1].Revents != 0 {
		t.Fatalf("PpollRaw = %d, %v, revents %#x %#x; want 1, POLLOUT", n, errno, fds[0].Revents, fds[1].Revents)
	}
	fds[0].Events = POLLIN
	start := time.Now()
	ts := Timespec{Nsec: 20e6}
	n, errno = Ppoll(&fds[0], 1, &ts)
	if errno != 0 || n != 0 {
		t.Fatalf("Ppoll(20ms, idle) = %d, %v", n, errno)
	}
	if d := time.Since(start); d < 15*time.Millisecond || d > 5*time.Second {
		t.Fatalf("Ppoll(20ms) returned after %v", d)
	}
	if _, errno := Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}); errno != 0 {
		t.Fatal(errno)
	}
	n, errno = Ppoll(&fds[0], 1, nil)
	if errno != 0 || n != 1 || fds[0].Revents != POLLIN {
		t.Fatalf("Ppoll(ready) = %d, %v, revents %#x", n, errno, fds[0].Revents)
	}
	fds[0].Fd = 1 << 30 // not open: POLLNVAL
	if n, errno = PpollRaw(&fds[0], 1, &zero); n != 1 || fds[0].Revents != POLLNVAL {
		t.Fatalf("PpollRaw(bad fd) = %d, %v, revents %#x", n, errno, fds[0].Revents)
	}
}

func TestReadWriteSocketpair(t *testing.T) {
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[0])
	defer unix.Close(sp[1])
	msg := []byte("hello, kernel")
	if n, errno := Write(sp[0], msg); n != len(msg) || errno != 0 {
		t.Fatalf("Write = %d, %v", n, errno)
	}
	buf := make([]byte, 64)
	n, errno := Read(sp[1], buf)
	if errno != 0 || string(buf[:n]) != string(msg) {
		t.Fatalf("Read = %q, %v", buf[:n], errno)
	}
	if _, errno := Read(sp[1], buf); errno != syscall.EAGAIN {
		t.Fatalf("Read(empty) errno %v, want EAGAIN", errno)
	}
	if n, errno := Write(sp[0], nil); n != 0 || errno != 0 {
		t.Fatalf("Write(nil) = %d, %v", n, errno)
	}
	unix.Close(sp[0])
	if n, errno := Read(sp[1], buf); n != 0 || errno != 0 {
		t.Fatalf("Read after peer close = %d, %v; want EOF (0, 0)", n, errno)
	}
	if _, errno := Write(-1, msg); errno != syscall.EBADF {
		t.Fatalf("Write(-1) errno %v", errno)
	}
}

// TestIoctlBusyPollParams sets and reads back epoll busy-poll parameters
// (EPIOCSPARAMS, Linux 6.9+).
func TestIoctlBusyPollParams(t *testing.T) {
	epfd := newEpoll(t)
	var got EpollParams
	if _, errno := Ioctl(epfd, EPIOCGPARAMS, unsafe.Pointer(&got)); errno != 0 {
		if errno == syscall.ENOTTY || errno == syscall.EINVAL || errno == syscall.ENOSYS {
			t.Skipf("SKIP: EPIOCGPARAMS unsupported here (%v): kernel older than 6.9 or an emulator", errno)
		}
		t.Fatalf("EPIOCGPARAMS: %v", errno)
	}
	set := EpollParams{BusyPollUsecs: 25, BusyPollBudget: 8, PreferBusyPoll: 1}
	if _, errno := Ioctl(epfd, EPIOCSPARAMS, unsafe.Pointer(&set)); errno != 0 {
		if errno == syscall.EPERM {
			// A budget above NAPI_POLL_WEIGHT needs CAP_NET_ADMIN; 8 does not.
			t.Fatalf("EPIOCSPARAMS: EPERM for a budget of 8")
		}
		t.Fatalf("EPIOCSPARAMS: %v", errno)
	}
	if _, errno := Ioctl(epfd, EPIOCGPARAMS, unsafe.Pointer(&got)); errno != 0 {
		t.Fatal(errno)
	}
	if got != set {
		t.Fatalf("EPIOCGPARAMS read back %+v, set %+v", got, set)
	}
	bad := EpollParams{PreferBusyPoll: 2}
	if _, errno := Ioctl(epfd, EPIOCSPARAMS, unsafe.Pointer(&bad)); errno != syscall.EINVAL {
		t.Fatalf("EPIOCSPARAMS(prefer=2): %v, want EINVAL", errno)
	}
}

// TestBlockingWaitReleasesP proves the blocking forms tell the scheduler:
// with GOMAXPROCS=1, one goroutine sleeps in the kernel while another keeps
// running and finally wakes it. Were the P kept by the sleeping thread, the
// counter would never advance and the wake would never be written.
func TestBlockingWaitReleasesP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, name := range []string{"EpollPwait", "EpollPwait2", "Ppoll"} {
		t.Run(name, func(t *testing.T) {
			epfd := newEpoll(t)
			efd := newEventfd(t)
			var ev EpollEvent
			ev.Set(EPOLLIN, 42)
			if errno := EpollCtl(epfd, EPOLL_CTL_ADD, efd, &ev); errno != 0 {
				t.Fatal(errno)
			}
			done := make(chan syscall.Errno, 1)
			go func() {
				buf := make([]EpollEvent, 1)
				var n int
				var errno syscall.Errno
				for range 100 { // EINTR is possible; bounded retries
					switch name {
					case "EpollPwait":
						n, errno = EpollPwait(epfd, &buf[0], 1, -1)
					case "EpollPwait2":
						n, errno = EpollPwait2(epfd, &buf[0], 1, nil)
						if errno == syscall.ENOSYS {
							n, errno = EpollPwait(epfd, &buf[0], 1, -1)
						}
					case "Ppoll":
						fds := []PollFd{{Fd: int32(efd), Events: POLLIN}}
						n, errno = Ppoll(&fds[0], 1, nil)
					}
					if errno != syscall.EINTR {
						break
					}
				}
				if errno == 0 && n != 1 {
					errno = syscall.EIO
				}
				done <- errno
			}()
			// Keep running on the only P for a while; the waiter is in
			// the kernel by then.
			deadline := time.Now().Add(50 * time.Millisecond)
			spins := 0
			for time.Now().Before(deadline) {
				spins++
				runtime.Gosched()
			}
			if spins == 0 {
				t.Fatal("the other goroutine never ran")
			}
			select {
			case errno := <-done:
				t.Fatalf("waiter returned before the wake: %v", errno)
			default:
			}
			if _, errno := Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}); errno != 0 {
				t.Fatal(errno)
			}
			select {
			case errno := <-done:
				if errno != 0 {
					t.Fatalf("waiter: %v", errno)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("waiter not released by the wake")
			}
		})
	}
}

func TestStubsDoNotAllocate(t *testing.T) {
	epfd := newEpoll(t)
	efd := newEventfd(t)
	var ev EpollEvent
	ev.Set(EPOLLIN|EPOLLET, 1)
	buf := make([]EpollEvent, 64)
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	var drain [8]byte
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	allocs := testing.AllocsPerRun(200, func() {
		EpollCtl(epfd, EPOLL_CTL_ADD, efd, &ev)
		Write(efd, one)
		EpollPwaitRaw(epfd, &buf[0], len(buf), 0)
		EpollPwait(epfd, &buf[0], len(buf), 0)
		ts := Timespec{}
		EpollPwait2(epfd, &buf[0], len(buf), &ts)
		fds := [1]PollFd{{Fd: int32(efd), Events: POLLIN}}
		PpollRaw(&fds[0], 1, &ts)
		Read(efd, drain[:])
		EpollCtl(epfd, EPOLL_CTL_DEL, efd, nil)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}
