//go:build amd64 || arm64

package bench

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// The impl=uring rows: the selector on its io_uring backend, run beside
// the epoll rows (impl=rawsys) of the same benchmarks. Where io_uring is
// refused (qemu-user, a seccomp filter) they SKIP with the reason.

func mustUring(b *testing.B) *selector.Selector {
	b.Helper()
	if err := selector.IoUringUnavailable(); err != nil {
		b.Skipf("SKIP: impl=uring not run: %v", err)
	}
	s, err := selector.New(selector.WithBackend("io_uring"))
	if err != nil {
		b.Fatal(err)
	}
	if s.Backend() != "io_uring" {
		b.Fatalf("Backend() = %q", s.Backend())
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// uringSelectEmpty is Select(ev, 0) with nothing ready: on io_uring a
// look at the completion ring, no system call.
func uringSelectEmpty(b *testing.B) {
	s := mustUring(b)
	ev := selector.NewEvents(64)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Select(ev, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// uringSelectOneReady is Select(ev, 0) with one completion waiting in the
// ring, its token read: the cost of handing out a ready event. Every
// completion is an edge, so batches of them are made by writing to
// registered eventfds outside the measured time (timed by hand and
// reported as ns/op), against epoll's level-triggered eventfd that is
// ready on every call (impl=rawsys of the same benchmark).
func uringSelectOneReady(b *testing.B) {
	s := mustUring(b)
	const batch = 512
	fds := make([]int, batch)
	for i := range fds {
		fds[i] = mustEventfd(b)
		if err := s.Register(fds[i], selector.Token(i), selector.Readable); err != nil {
			b.Fatal(err)
		}
	}
	ev := selector.NewEvents(1)
	if err := s.Select(ev, 0); err != nil { // submits the registrations
		b.Fatal(err)
	}
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	var sum selector.Token
	var spent time.Duration
	counted := 0
	b.ReportAllocs()
	b.ResetTimer()
	for counted < b.N {
		for _, fd := range fds {
			unix.Write(fd, one)
		}
		// Wait (bounded) for the batch's first completion.
		for deadline := time.Now().Add(5 * time.Second); ; {
			if err := s.Select(ev, time.Millisecond); err != nil {
				b.Fatal(err)
			}
			if ev.Len() == 1 {
				sum += ev.At(0).Token()
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("no completion within 5 s")
			}
		}
		time.Sleep(2 * time.Millisecond) // the rest of the batch's task work
		// Every call is timed, and only those that returned an event are
		// counted: an empty one (a completion not posted yet) makes the
		// figure worse, never better.
		start := time.Now()
		got := 0
		for tries := 0; got < batch-1 && tries < 100*batch; tries++ {
			if err := s.Select(ev, 0); err != nil {
				b.Fatal(err)
			}
			if ev.Len() == 1 {
				sum += ev.At(0).Token()
				got++
			}
		}
		spent += time.Since(start)
		if got < batch-1 {
			b.Fatalf("%d of %d completions arrived", got+1, batch)
		}
		counted += got
	}
	sink = uint64(sum)
	b.ReportMetric(float64(spent.Nanoseconds())/float64(counted), "ns/op")
}

// uringRegisterDeregister is Register then Deregister: on io_uring a
// F_GETFD (the EBADF check) and two queued SQEs, submitted in bulk when
// the ring fills.
func uringRegisterDeregister(b *testing.B) {
	s := mustUring(b)
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
}

// uringPingPong is the ping-pong over a socketpair with both sides on
// io_uring Selectors, each side's goroutine locked to its thread as an
// io_uring event loop's must be.
func uringPingPong(b *testing.B) {
	pingPong(b, true, func(fd int) pingPonger {
		s := mustUring(b)
		if err := s.Register(fd, 1, selector.Readable); err != nil {
			b.Fatal(err)
		}
		return &rawsysSide{s: s, ev: selector.NewEvents(4), fd: fd}
	})
}
