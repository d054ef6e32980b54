//go:build unix

package selector_test

// Hardening: faults and bad input. Every backend runs these.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// TestCloseWakesBlockedSelect: Close from another goroutine returns
// Selects blocked with no timeout and with a long one, with ErrClosed, and
// the descriptor is released once they have returned.
func TestCloseWakesBlockedSelect(t *testing.T) {
	before := countFds(t)
	for _, timeout := range []time.Duration{-1, time.Hour} {
		s, err := selector.New()
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 2)
		for range 2 {
			go func() { done <- s.Select(selector.NewEvents(4), timeout) }()
		}
		time.Sleep(50 * time.Millisecond) // let both block
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			select {
			case err := <-done:
				if !errors.Is(err, selector.ErrClosed) {
					t.Fatalf("timeout %v: blocked Select returned %v after Close, want ErrClosed", timeout, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("timeout %v: Close did not wake a blocked Select", timeout)
			}
		}
	}
	if after := countFds(t); after != before {
		t.Fatalf("descriptors: %d before, %d after", before, after)
	}
}

// TestWakeRacingWakerClose: Wake and Close of a Waker from different
// goroutines: every Wake returns nil or ErrClosed, nothing panics, and
// after Close every Wake is ErrClosed (run under -race by make test).
func TestWakeRacingWakerClose(t *testing.T) {
	s := newSelector(t)
	for range 50 {
		w, err := selector.NewWaker(s, 5)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					if err := w.Wake(); err != nil && !errors.Is(err, selector.ErrClosed) {
						t.Error(err)
						return
					}
				}
			}()
		}
		w.Close()
		wg.Wait()
		wantErrIs(t, "Wake after Close", w.Wake(), selector.ErrClosed)
	}
}

// TestSignalStorm: while Selects with timeouts from 0 to 50 ms run, another
// goroutine sends SIGURG and SIGUSR1 to the process thousands of times a
// second. No Select fails (EINTR is retried), none returns before its
// timeout without an event, the median overshoot stays under 5 ms, and a
// Wake during the storm is always delivered.
func TestSignalStorm(t *testing.T) {
	dur := 2 * time.Second
	if testing.Short() {
		dur = 300 * time.Millisecond
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	s := newSelector(t)
	const wakeTok = selector.Token(77)
	w, err := selector.NewWaker(s, wakeTok)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var sent atomic.Int64
	stop := make(chan struct{})
	stormDone := make(chan struct{})
	go func() {
		defer close(stormDone)
		pid := os.Getpid()
		for {
			select {
			case <-stop:
				return
			case <-usr1: // drain
			default:
			}
			unix.Kill(pid, syscall.SIGURG)
			unix.Kill(pid, syscall.SIGUSR1)
			sent.Add(2)
			time.Sleep(50 * time.Microsecond)
		}
	}()
	timeouts := []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond}
	var over []time.Duration
	ev := selector.NewEvents(8)
	selects, wakes := 0, 0
	for end := time.Now().Add(dur); time.Now().Before(end); selects++ {
		d := timeouts[selects%len(timeouts)]
		if selects%7 == 3 { // a Wake during the storm: always delivered
			if err := w.Wake(); err != nil {
				t.Fatal(err)
			}
			if err := s.Select(ev, time.Second); err != nil || ev.Len() != 1 || ev.At(0).Token() != wakeTok {
				t.Fatalf("Wake during the storm: %v, %d events", err, ev.Len())
			}
			wakes++
			continue
		}
		start := time.Now()
		if err := s.Select(ev, d); err != nil {
			t.Fatalf("Select(%v) during the storm: %v", d, err)
		}
		el := time.Since(start)
		if ev.Len() != 0 {
			t.Fatalf("Select(%v): %d events, none expected", d, ev.Len())
		}
		if el < d {
			t.Fatalf("Select(%v) returned after %v, early and without an event", d, el)
		}
		if d > 0 {
			over = append(over, el-d)
		}
	}
	close(stop)
	<-stormDone
	slices.Sort(over)
	med := over[len(over)/2]
	rate := float64(sent.Load()) / dur.Seconds()
	t.Logf("%d Selects, %d wakes, %.0f signals/s, overshoot median %v, p90 %v", selects, wakes, rate, med, over[len(over)*9/10])
	if rate < 1000 {
		t.Fatalf("only %.0f signals/s: the storm was too weak to test anything", rate)
	}
	if med > 5*time.Millisecond {
		t.Fatalf("median overshoot %v > 5ms", med)
	}
}

// TestFdExhaustion runs in a child process (setrlimit is per process) with
// RLIMIT_NOFILE lowered so that New, NewWaker and TryClone fail half-way:
// each fails with an error that matches EMFILE and names the operation,
// leaks nothing, and everything works again once descriptors are free.
func TestFdExhaustion(t *testing.T) {
	if os.Getenv("RAWPOLL_EXHAUSTION_CHILD") == "1" {
		exhaustionChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFdExhaustion$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "RAWPOLL_EXHAUSTION_CHILD=1")
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.ENOEXEC) || errors.Is(err, exec.ErrNotFound) {
		t.Skipf("SKIP: cannot re-execute the test binary here (%v): an emulator without binfmt_misc", err)
	}
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "EXHAUSTION-CHECKED") {
		t.Fatalf("child did not run the checks:\n%s", out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "limit ") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// lowestFree is the descriptor number the next open would get: with
// RLIMIT_NOFILE at lowestFree+k, at most k more descriptors can be opened.
func lowestFree(t *testing.T) int {
	fd, err := unix.FcntlInt(0, unix.F_DUPFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	return fd
}

// setLimit sets an rlimit field, int64 on some BSDs and uint64 elsewhere.
func setLimit[T int64 | uint64](p *T, n int) { *p = T(n) }

func exhaustionChild(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	restore := func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &lim) }
	defer restore()
	base := countFds(t)
	top := lowestFree(t)
	failures := map[string]int{}
	for extra := 0; extra <= 4; extra++ {
		tight := lim
		setLimit(&tight.Cur, top+extra)
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &tight); err != nil {
			t.Fatal(err)
		}
		check := func(op string, err error) bool {
			if err == nil {
				return true
			}
			if !errors.Is(err, syscall.EMFILE) || !strings.Contains(err.Error(), op) {
				restore()
				t.Fatalf("limit %d: %s failed with %v; want EMFILE naming %q", top+extra, op, err, op)
			}
			failures[op]++
			return false
		}
		var s, c *selector.Selector
		var w *selector.Waker
		var err error
		if s, err = selector.New(); check("new", err) {
			if w, err = selector.NewWaker(s, 1); check("waker", err) {
				if c, err = s.TryClone(); check("clone", err) {
					c.Close()
				}
				w.Close()
			}
			s.Close()
		}
		restore()
		if n := countFds(t); n != base {
			t.Fatalf("limit %d: %d descriptors after the failure, %d before: a leak", top+extra, n, base)
		}
		fmt.Printf("limit %d: failures so far %v\n", top+extra, failures)
	}
	if failures["new"] == 0 {
		t.Fatal("New never failed: the limit was not tight")
	}
	// Everything works once descriptors are free.
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	w, err := selector.NewWaker(s, 9)
	if err != nil {
		t.Fatal(err)
	}
	w.Wake()
	ev := selector.NewEvents(4)
	if err := s.Select(ev, time.Second); err != nil || ev.Len() != 1 {
		t.Fatalf("after exhaustion: %v, %d events", err, ev.Len())
	}
	w.Close()
	s.Close()
	fmt.Println("EXHAUSTION-CHECKED")
}

// TestBadInputTable: every Interest byte, huge Events, and extreme
// timeouts give a clear error or the right behaviour, never a panic or a
// hang.
func TestBadInputTable(t *testing.T) {
	s := newSelector(t)
	exp := expectFor(t, s)
	r, _ := pipe(t)
	for i := 0; i < 256; i++ {
		in := selector.Interest(i)
		err := s.Register(r, 1, in)
		var want error
		switch {
		case in == 0 || in&^(selector.Readable|selector.Writable|selector.Priority|selector.AIO|selector.LIO) != 0:
			want = selector.ErrInvalidInterest
		case in&selector.AIO != 0 && exp.aioErr != nil:
			want = exp.aioErr
		case in&selector.LIO != 0 && exp.lioErr != nil:
			want = exp.lioErr
		case in&selector.Priority != 0 && exp.priorityErr != nil:
			want = exp.priorityErr
		}
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("Register(interest %#x): %v, want %v", i, err, want)
		}
		if err == nil {
			if err := s.Deregister(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Capacities 1 and 1<<20.
	for _, c := range []int{1, 1 << 20} {
		if err := s.Select(selector.NewEvents(c), 0); err != nil {
			t.Fatalf("Select with capacity %d: %v", c, err)
		}
	}
	// Extreme timeouts with a wake already pending: each returns at once
	// with the event (a wrapped or truncated timeout would block or lose it).
	// The Selects run on this goroutine, locked to its thread: on io_uring
	// the wake's completion is posted by the thread that submitted the
	// waker's poll (the package doc's "io_uring and threads"), before Wake
	// returns only on that thread (a Select on another goroutine was seen
	// to look first). A hang is ended by Close from a watchdog.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w, err := selector.NewWaker(s, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := selector.NewEvents(4)
	for _, d := range []time.Duration{math.MinInt64, -1, 0, 1, math.MaxInt64} {
		w.Wake()
		watchdog := time.AfterFunc(5*time.Second, func() { s.Close() })
		err := s.Select(ev, d)
		if !watchdog.Stop() {
			t.Fatalf("Select(%d) with a pending wake hung (returned %v after Close)", d, err)
		}
		if err != nil || ev.Len() != 1 || ev.At(0).Token() != 3 {
			t.Fatalf("Select(%d) with a pending wake: %v, %d events", d, err, ev.Len())
		}
	}
}
