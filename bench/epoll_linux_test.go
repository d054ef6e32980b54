//go:build amd64 || arm64

package bench

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/selector"
)

func mustEpoll(b *testing.B) int {
	b.Helper()
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fd) })
	return fd
}

func mustSelector(b *testing.B) *selector.Selector {
	b.Helper()
	s, err := selector.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func mustEventfd(b *testing.B) int {
	b.Helper()
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fd) })
	return fd
}

func mustSocketpair(b *testing.B) [2]int {
	b.Helper()
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(sp[0]); unix.Close(sp[1]) })
	return sp
}

// BenchmarkEpollWaitEmpty: a zero-timeout wait on an epoll instance with
// nothing ready, the call an event loop makes when it polls. impl=rawsys is
// selector.Select(ev, 0); impl=xsys is unix.EpollWait(epfd, buf, 0);
// impl=rawsys-blocking is the scheduler-aware stub rawsys.EpollPwait (what
// a blocking Select pays); impl=stub is the raw assembly stub alone and
// impl=syscall is syscall.RawSyscall6, the floor a Go program can reach.
func BenchmarkEpollWaitEmpty(b *testing.B) {
	r := impls(b)
	defer r.done()
	r.run("impl=rawsys", func(b *testing.B) {
		s := mustSelector(b)
		ev := selector.NewEvents(64)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Select(ev, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		epfd := mustEpoll(b)
		buf := make([]unix.EpollEvent, 64)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := unix.EpollWait(epfd, buf, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	r.run("impl=rawsys-blocking", func(b *testing.B) {
		epfd := mustEpoll(b)
		buf := make([]rawsys.EpollEvent, 64)
		b.ReportAllocs()
		for b.Loop() {
			if _, errno := rawsys.EpollPwait(epfd, &buf[0], len(buf), 0); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
	r.run("impl=stub", func(b *testing.B) {
		epfd := mustEpoll(b)
		buf := make([]rawsys.EpollEvent, 64)
		b.ReportAllocs()
		for b.Loop() {
			if _, errno := rawsys.EpollPwaitRaw(epfd, &buf[0], len(buf), 0); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
	r.run("impl=syscall", func(b *testing.B) {
		epfd := mustEpoll(b)
		buf := make([]rawsys.EpollEvent, 64)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&buf[0])), 64, 0, 0, 8); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
	r.run("impl=uring", uringSelectEmpty)
}

// readyEventfds returns n eventfds whose counters are non-zero, so they stay
// readable for a level-triggered registration.
func readyEventfds(b *testing.B, n int) []int {
	fds := make([]int, n)
	for i := range fds {
		fds[i] = mustEventfd(b)
		if _, err := unix.Write(fds[i], []byte{1, 0, 0, 0, 0, 0, 0, 0}); err != nil {
			b.Fatal(err)
		}
	}
	return fds
}

// BenchmarkEpollWaitReady: a zero-timeout wait that returns n ready fds,
// reading every token. The fds are registered level-triggered on both
// sides (through rawsys.EpollCtl on the Selector's fd for rawsys), so every
// wait returns all n: the selector is edge-triggered by design, and an
// edge needs a new write per fd per iteration, which would measure the
// writes instead. The x/sys side rebuilds the 64-bit token from Fd and Pad,
// as an x/sys event loop must.
func BenchmarkEpollWaitReady(b *testing.B) {
	for _, n := range []int{1, 16, 64} {
		b.Run("ready="+itoa(n), func(b *testing.B) {
			r := impls(b)
			defer r.done()
			r.run("impl=rawsys", func(b *testing.B) {
				s := mustSelector(b)
				for i, fd := range readyEventfds(b, n) {
					var ev rawsys.EpollEvent
					ev.Set(rawsys.EPOLLIN, uint64(i)<<32|uint64(i))
					if errno := rawsys.EpollCtl(s.Fd(), rawsys.EPOLL_CTL_ADD, fd, &ev); errno != 0 {
						b.Fatal(errno)
					}
				}
				events := selector.NewEvents(64)
				var sum selector.Token
				b.ReportAllocs()
				for b.Loop() {
					if err := s.Select(events, 0); err != nil || events.Len() != n {
						b.Fatal(err, events.Len())
					}
					for e := range events.All() {
						sum += e.Token()
					}
				}
				sink = uint64(sum)
			})
			r.run("impl=xsys", func(b *testing.B) {
				epfd := mustEpoll(b)
				for i, fd := range readyEventfds(b, n) {
					ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i), Pad: int32(i)}
					if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
						b.Fatal(err)
					}
				}
				buf := make([]unix.EpollEvent, 64)
				var sum uint64
				b.ReportAllocs()
				for b.Loop() {
					got, err := unix.EpollWait(epfd, buf, 0)
					if err != nil || got != n {
						b.Fatal(err, got)
					}
					for i := range buf[:got] {
						sum += uint64(uint32(buf[i].Pad))<<32 | uint64(uint32(buf[i].Fd))
					}
				}
				sink = sum
			})
			if n == 1 {
				r.run("impl=uring", uringSelectOneReady)
			}
		})
	}
}

var sink uint64

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// BenchmarkEpollCtlAddDel: register and deregister one fd.
func BenchmarkEpollCtlAddDel(b *testing.B) {
	r := impls(b)
	defer r.done()
	r.run("impl=rawsys", func(b *testing.B) {
		s := mustSelector(b)
		fd := mustEventfd(b)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Register(fd, 1, selector.Readable); err != nil {
				b.Fatal(err)
			}
			if err := s.Deregister(fd); err != nil {
				b.Fatal(err)
			}
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		epfd := mustEpoll(b)
		fd := mustEventfd(b)
		b.ReportAllocs()
		for b.Loop() {
			ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: 1}
			if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
				b.Fatal(err)
			}
			if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	r.run("impl=uring", uringRegisterDeregister)
}

// BenchmarkEpollCtlMod: change the token and interests of one fd.
func BenchmarkEpollCtlMod(b *testing.B) {
	r := impls(b)
	defer r.done()
	r.run("impl=rawsys", func(b *testing.B) {
		s := mustSelector(b)
		fd := mustEventfd(b)
		if err := s.Register(fd, 1, selector.Readable); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		var i selector.Token
		for b.Loop() {
			i++
			if err := s.Reregister(fd, i, selector.Readable|selector.Writable); err != nil {
				b.Fatal(err)
			}
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		epfd := mustEpoll(b)
		fd := mustEventfd(b)
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		var i int32
		for b.Loop() {
			i++
			ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLOUT | unix.EPOLLET, Fd: i}
			if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_MOD, fd, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWake: wake an event loop through an eventfd and collect the
// wake with a blocking wait (the wake is already pending, so it returns at
// once, but through the scheduler-aware path a woken loop uses).
func BenchmarkWake(b *testing.B) {
	r := impls(b)
	defer r.done()
	r.run("impl=rawsys", func(b *testing.B) {
		s := mustSelector(b)
		w, err := selector.NewWaker(s, 1)
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		ev := selector.NewEvents(4)
		for range 100 { // warm-up, as in pingPong: thread start-up is not ours
			w.Wake()
			s.Select(ev, -1)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := w.Wake(); err != nil {
				b.Fatal(err)
			}
			if err := s.Select(ev, -1); err != nil || ev.Len() != 1 {
				b.Fatal(err)
			}
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		epfd := mustEpoll(b)
		efd := mustEventfd(b)
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: 1}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
			b.Fatal(err)
		}
		buf := make([]unix.EpollEvent, 4)
		one := binary.NativeEndian.AppendUint64(nil, 1)
		for range 100 {
			unix.Write(efd, one)
			unix.EpollWait(epfd, buf, -1)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := unix.Write(efd, one); err != nil {
				b.Fatal(err)
			}
			if n, err := unix.EpollWait(epfd, buf, -1); err != nil || n != 1 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReadWrite64: write 64 bytes into a non-blocking socketpair and
// read them back: raw stubs against unix.Write/unix.Read (which bracket
// every call with entersyscall/exitsyscall).
func BenchmarkReadWrite64(b *testing.B) {
	r := impls(b)
	defer r.done()
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	r.run("impl=rawsys", func(b *testing.B) {
		sp := mustSocketpair(b)
		b.ReportAllocs()
		for b.Loop() {
			if n, errno := rawsys.Write(sp[0], msg); n != 64 || errno != 0 {
				b.Fatal(n, errno)
			}
			if n, errno := rawsys.Read(sp[1], buf); n != 64 || errno != 0 {
				b.Fatal(n, errno)
			}
		}
	})
	r.run("impl=xsys", func(b *testing.B) {
		sp := mustSocketpair(b)
		b.ReportAllocs()
		for b.Loop() {
			if n, err := unix.Write(sp[0], msg); n != 64 || err != nil {
				b.Fatal(n, err)
			}
			if n, err := unix.Read(sp[1], buf); n != 64 || err != nil {
				b.Fatal(n, err)
			}
		}
	})
}

// pingPonger is one side of the ping-pong: wait until fd is readable,
// read one byte, and (for the echo side) write it back.
type pingPonger interface {
	wait() error
	read(p []byte) int
	write(p []byte)
}

// BenchmarkPingPong: two goroutines bounce one byte over a socketpair,
// each waiting in its own epoll instance with a blocking wait (bounded at
// 5 s): one op is one round trip, and it exercises the blocking
// (scheduler-aware) path on both sides.
func BenchmarkPingPong(b *testing.B) {
	r := impls(b)
	defer r.done()
	r.run("impl=rawsys", func(b *testing.B) {
		pingPong(b, false, func(fd int) pingPonger {
			s := mustSelector(b)
			if err := s.Register(fd, 1, selector.Readable); err != nil {
				b.Fatal(err)
			}
			return &rawsysSide{s: s, ev: selector.NewEvents(4), fd: fd}
		})
	})
	r.run("impl=xsys", func(b *testing.B) {
		pingPong(b, false, func(fd int) pingPonger {
			epfd := mustEpoll(b)
			ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: 1}
			if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
				b.Fatal(err)
			}
			return &xsysSide{epfd: epfd, buf: make([]unix.EpollEvent, 4), fd: fd}
		})
	})
	r.run("impl=uring", uringPingPong)
}

// pingPong runs b.N round trips between two sides of a socketpair, the
// echo side in a goroutine of its own; with lock both goroutines are locked
// to their threads, as an io_uring event loop must be (a poll's completion
// work runs on the thread that submitted it).
func pingPong(b *testing.B, lock bool, side func(fd int) pingPonger) {
	if lock {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	sp := mustSocketpair(b)
	ping, pong := side(sp[0]), side(sp[1])
	// warm round trips before the timer starts: the first blocking waits
	// make the runtime start threads for the handed-off Ps, and allocm's
	// heap allocations would otherwise be charged to a short run (a 1x
	// run in CI sees about 6).
	const warm = 200
	n := b.N + warm
	// Both buffers exist before the timer starts: allocation counters are
	// process-wide, so the echo goroutine's setup would be charged to us.
	p, echo := []byte{'x'}, make([]byte, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the echo side: exactly n round trips
		defer wg.Done()
		if lock {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		p := echo
		for i := 0; i < n; {
			if pong.wait() != nil {
				return
			}
			for pong.read(p) == 1 {
				pong.write(p)
				i++
			}
		}
	}()
	roundTrip := func() {
		ping.write(p)
		for got := false; !got; {
			if err := ping.wait(); err != nil {
				b.Fatal(err)
			}
			for ping.read(p) == 1 {
				got = true
			}
		}
	}
	for range warm {
		roundTrip()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		roundTrip()
	}
	b.StopTimer()
	wg.Wait()
}

type rawsysSide struct {
	s  *selector.Selector
	ev *selector.Events
	fd int
}

// waitBound bounds every ping-pong wait, so a dead peer fails the
// benchmark instead of hanging it.
const waitBound = 5 * time.Second

var errStalled = errors.New("ping-pong: no event within 5s")

func (r *rawsysSide) wait() error {
	if err := r.s.Select(r.ev, waitBound); err != nil {
		return err
	}
	if r.ev.Len() == 0 {
		return errStalled
	}
	return nil
}
func (r *rawsysSide) write(p []byte) { rawsys.Write(r.fd, p) }
func (r *rawsysSide) read(p []byte) int {
	n, _ := rawsys.Read(r.fd, p)
	return n
}

type xsysSide struct {
	epfd int
	buf  []unix.EpollEvent
	fd   int
}

func (x *xsysSide) wait() error {
	for {
		n, err := unix.EpollWait(x.epfd, x.buf, int(waitBound/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err == nil && n == 0 {
			return errStalled
		}
		return err
	}
}
func (x *xsysSide) write(p []byte) { unix.Write(x.fd, p) }
func (x *xsysSide) read(p []byte) int {
	n, _ := unix.Read(x.fd, p)
	return n
}
