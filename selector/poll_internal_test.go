//go:build linux && (amd64 || arm64) && rawpoll_forcepoll

package selector

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// randomFds fills fd and events with noise, so that a scan that looked at
// anything but revents would be caught.
func randomFds(r *rand.Rand, n int) []rawsys.PollFd {
	fds := make([]rawsys.PollFd, n)
	for i := range fds {
		fds[i] = rawsys.PollFd{Fd: int32(r.Uint32()), Events: int16(r.Uint32())}
	}
	return fds
}

func checkScan(t *testing.T, what string, fds []rawsys.PollFd) {
	t.Helper()
	want := scanReventsGo(fds)
	if got := scanReventsSIMD(fds); got != want {
		t.Fatalf("%s (n=%d): SIMD scan %d, Go loop %d", what, len(fds), got, want)
	}
	// And from every offset, as collect calls it on sub-slices.
	for off := 0; off < len(fds) && off < 40; off++ {
		if got, want := scanReventsSIMD(fds[off:]), scanReventsGo(fds[off:]); got != want {
			t.Fatalf("%s (n=%d, from %d): SIMD scan %d, Go loop %d", what, len(fds), off, got, want)
		}
	}
}

// TestSIMDScanMatchesGo compares the assembly scan with the Go loop on
// all-zero, all-set, last-only, every single position, and random
// patterns, for lengths around every block boundary and at 10,000.
func TestSIMDScanMatchesGo(t *testing.T) {
	t.Logf("GOARCH=%s, SIMD scan chosen at start-up: %v", runtime.GOARCH, simdScan)
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 1000, 10000}
	for _, n := range sizes {
		fds := randomFds(r, n)
		checkScan(t, "all zero", fds)
		for i := range fds {
			fds[i].Revents = int16(r.Uint32()) | 1
		}
		checkScan(t, "all set", fds)
		for i := range fds {
			fds[i].Revents = 0
		}
		if n > 0 {
			fds[n-1].Revents = rawsys.POLLIN
			checkScan(t, "last only", fds)
			fds[n-1].Revents = 0
		}
		if n <= 129 {
			for i := range fds {
				for _, bit := range []int16{1, 0x100, -0x8000} { // low byte, high byte, sign bit
					fds[i].Revents = bit
					checkScan(t, "single", fds)
					fds[i].Revents = 0
				}
			}
		}
		for range 50 {
			for i := range fds {
				fds[i].Revents = 0
				if r.IntN(max(n/2, 1)) == 0 {
					fds[i].Revents = int16(r.Uint32()) | 1
				}
			}
			checkScan(t, "random", fds)
		}
	}
}

// TestPollNvalIsErrorEvent: an fd closed while registered is reported once
// as an error event (poll's POLLNVAL), not dropped, and can still be
// deregistered.
func TestPollNvalIsErrorEvent(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	if err := s.Register(p[0], 77, Readable); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[0]) // closed while registered; nothing reuses the number below
	ev := NewEvents(4)
	if err := s.Select(ev, time.Second); err != nil {
		t.Fatal(err)
	}
	if ev.Len() != 1 || ev.At(0).Token() != 77 || !ev.At(0).IsError() {
		t.Fatalf("closed registered fd: %d events, first %v; want an error event for token 77", ev.Len(), ev.At(0))
	}
	if err := s.Select(ev, 20*time.Millisecond); err != nil || ev.Len() != 0 {
		t.Fatalf("POLLNVAL reported again (%d events): the entry must be suspended", ev.Len())
	}
	if err := s.Deregister(p[0]); err != nil {
		t.Fatalf("Deregister after POLLNVAL: %v", err)
	}
}

// TestPollCloseWakesBlockedSelect: Close from another goroutine returns a
// blocked Select with ErrClosed.
func TestPollCloseWakesBlockedSelect(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Select(NewEvents(4), -1) }()
	time.Sleep(30 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if err != ErrClosed {
			t.Fatalf("blocked Select after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the blocked Select")
	}
}

// tenThousandPipes registers 10,000 pipe descriptors, the last one ready
// (the worst case for a scan): n-1 dups of an idle pipe's read end and one
// pipe with a byte in it, since 10,000 distinct pipes need 20,000
// descriptors and RLIMIT_NOFILE is 20,000 here.
func tenThousandPipes(b *testing.B) (s *Selector, ready int) {
	b.Helper()
	s, err := New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var idle, live [2]int
	if err := unix.Pipe2(idle[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	if err := unix.Pipe2(live[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(idle[0]); unix.Close(idle[1]); unix.Close(live[0]); unix.Close(live[1]) })
	for i := range 9999 {
		fd, err := unix.FcntlInt(uintptr(idle[0]), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			b.Fatalf("dup %d: %v", i, err)
		}
		b.Cleanup(func() { unix.Close(fd) })
		if err := s.Register(fd, Token(i), Readable); err != nil {
			b.Fatal(err)
		}
	}
	unix.Write(live[1], []byte("x"))
	if err := s.Register(live[0], 9999, Readable); err != nil {
		b.Fatal(err)
	}
	return s, live[0]
}

// impls runs f as impl=scalar and impl=simd, switching the scan.
func impls(b *testing.B, f func(b *testing.B)) {
	saved := simdScan
	defer func() { simdScan = saved }()
	for _, simd := range []bool{false, true} {
		name := "impl=scalar"
		if simd {
			name = "impl=simd"
		}
		b.Run(name, func(b *testing.B) {
			if simd && !saved {
				b.Skip("SKIP: this CPU has no AVX2/NEON; impl=simd not measured")
			}
			simdScan = simd
			f(b)
		})
	}
}

// BenchmarkPollScan10k: the scan alone over 10,000 entries, one ready at
// the end.
func BenchmarkPollScan10k(b *testing.B) {
	fds := randomFds(rand.New(rand.NewPCG(3, 4)), 10000)
	fds[len(fds)-1].Revents = rawsys.POLLIN
	impls(b, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if scanRevents(fds) != len(fds)-1 {
				b.Fatal("wrong index")
			}
		}
	})
}

// BenchmarkPollSelect10k: Select over 10,000 registered pipes with one
// ready, whole call (ppoll dominates: the kernel polls every entry).
func BenchmarkPollSelect10k(b *testing.B) {
	s, ready := tenThousandPipes(b)
	ev := NewEvents(64)
	impls(b, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Select(ev, 0); err != nil || ev.Len() != 1 {
				b.Fatal(err, ev.Len())
			}
			s.WouldBlock(ready, Readable) // re-arm: the byte stays, so it is ready again
		}
	})
}
