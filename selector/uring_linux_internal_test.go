//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

package selector

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// needUring skips, loudly, where io_uring cannot run (qemu-user, seccomp):
// there the fallback tests below show what happens instead.
func needUring(t *testing.T) {
	t.Helper()
	if err := IoUringUnavailable(); err != nil {
		t.Skipf("SKIP: io_uring ring test not run: %v", err)
	}
}

func newUringSelector(t *testing.T) *Selector {
	t.Helper()
	needUring(t)
	s, err := New(WithBackend("io_uring"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "io_uring" {
		t.Fatalf("Backend() = %q", s.Backend())
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func uringPipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

// withProber runs f with uringProber replaced and the probe result
// forgotten before and after, so each refusal is probed afresh.
func withProber(t *testing.T, pr *rawsys.IoUringProber, f func()) {
	t.Helper()
	saved := uringProber
	reset := func() {
		uringProbeOnce = sync.Once{}
		uringProbeErr = nil
	}
	reset()
	uringProber = pr
	defer func() {
		uringProber = saved
		reset()
	}()
	f()
}

// TestUringFallbackOnEveryRefusal forces each refusal io_uring can give
// and checks that New, asked for io_uring by option or by RAWPOLL_BACKEND,
// gives a working epoll Selector, and that IoUringUnavailable says why.
func TestUringFallbackOnEveryRefusal(t *testing.T) {
	enosys := func(uint32, *rawsys.IoUringParams) (int, syscall.Errno) { return -1, syscall.ENOSYS }
	eperm := func(uint32, *rawsys.IoUringParams) (int, syscall.Errno) { return -1, syscall.EPERM }
	real := IoUringUnavailable() // before the hooks: what this machine has
	cases := []struct {
		name     string
		pr       *rawsys.IoUringProber
		kind     rawsys.IoUringRefusalKind
		needRing bool // the hook acts after a real io_uring_setup
	}{
		{"ENOSYS (no io_uring, qemu-user)", &rawsys.IoUringProber{Setup: enosys}, rawsys.IoUringNoSys, false},
		{"EPERM (seccomp)", &rawsys.IoUringProber{Setup: eperm, ReadFile: func(string) ([]byte, error) { return []byte("0\n"), nil }}, rawsys.IoUringDenied, false},
		{"io_uring_disabled=2", &rawsys.IoUringProber{ReadFile: func(string) ([]byte, error) { return []byte("2\n"), nil }}, rawsys.IoUringDisabled, false},
		{"io_uring_disabled=1 and EPERM", &rawsys.IoUringProber{Setup: eperm, ReadFile: func(string) ([]byte, error) { return []byte("1\n"), nil }}, rawsys.IoUringDisabled, false},
		{"no multishot poll in the probe", &rawsys.IoUringProber{
			Register: func(fd int, op uint32, arg unsafe.Pointer, n uint32) (int, syscall.Errno) {
				r, errno := rawsys.IoUringRegister(fd, op, arg, n)
				p := (*rawsys.IoUringProbe)(arg)
				p.Ops[rawsys.IORING_OP_POLL_ADD].Flags = 0 // not IO_URING_OP_SUPPORTED
				return r, errno
			}}, rawsys.IoUringNoOp, true},
		{"multishot refused", &rawsys.IoUringProber{Multishot: func(*rawsys.IoUring) error {
			return &rawsys.IoUringRefusal{Kind: rawsys.IoUringNoMultishot, Detail: "forced by the test"}
		}}, rawsys.IoUringNoMultishot, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.needRing && real != nil {
				t.Skipf("SKIP: this refusal is forced after a real io_uring_setup, refused here: %v", real)
			}
			withProber(t, c.pr, func() {
				var ref *rawsys.IoUringRefusal
				if err := IoUringUnavailable(); !errors.As(err, &ref) || ref.Kind != c.kind {
					t.Fatalf("IoUringUnavailable() = %v, want a refusal of kind %v", err, c.kind)
				}
				for _, how := range []string{"option", "env"} {
					var s *Selector
					var err error
					if how == "option" {
						s, err = New(WithBackend("io_uring"))
					} else {
						t.Setenv("RAWPOLL_BACKEND", "io_uring")
						s, err = New()
					}
					if err != nil {
						t.Fatalf("%s: New: %v", how, err)
					}
					if s.Backend() != "epoll" {
						t.Fatalf("%s: Backend() = %q after a refusal, want epoll", how, s.Backend())
					}
					// And it works.
					w, err := NewWaker(s, 3)
					if err != nil {
						t.Fatal(err)
					}
					w.Wake()
					ev := NewEvents(4)
					if err := s.Select(ev, time.Second); err != nil || ev.Len() != 1 || ev.At(0).Token() != 3 {
						t.Fatalf("%s: the fallback Selector: %v, %d events", how, err, ev.Len())
					}
					w.Close()
					s.Close()
				}
			})
		})
	}
	// RAWPOLL_BACKEND=epoll forces epoll; an option wins over the variable.
	t.Setenv("RAWPOLL_BACKEND", "epoll")
	s, err := New()
	if err != nil || s.Backend() != "epoll" {
		t.Fatalf("RAWPOLL_BACKEND=epoll: %v, %v", s.Backend(), err)
	}
	s.Close()
	if IoUringUnavailable() == nil {
		s, err := New(WithBackend("io_uring"))
		if err != nil || s.Backend() != "io_uring" {
			t.Fatalf("WithBackend(io_uring) under RAWPOLL_BACKEND=epoll: %v, %v", s.Backend(), err)
		}
		s.Close()
	}
}

// TestUringFallbackHere: where io_uring is refused for real (qemu-user,
// a seccomp filter), asking for it gives a working epoll Selector; where
// it is not, asking gives io_uring.
func TestUringFallbackHere(t *testing.T) {
	s, err := New(WithBackend("io_uring"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := "io_uring"
	if err := IoUringUnavailable(); err != nil {
		t.Logf("io_uring refused here, so the fallback runs: %v", err)
		want = "epoll"
	}
	if s.Backend() != want {
		t.Fatalf("Backend() = %q, want %q", s.Backend(), want)
	}
	w, err := NewWaker(s, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Wake()
	ev := NewEvents(4)
	if err := s.Select(ev, time.Second); err != nil || ev.Len() != 1 || ev.At(0).Token() != 3 {
		t.Fatalf("Select on %s: %v, %d events", s.Backend(), err, ev.Len())
	}
}

// waitCQ waits (bounded) until the ring holds at least n completions: the
// kernel posts them from the submitting thread's task work, a little
// after the event.
func waitCQ(t *testing.T, s *Selector, n uint32) {
	t.Helper()
	st := s.ur.st
	for deadline := time.Now().Add(3 * time.Second); ; {
		st.mu.Lock()
		ready := st.ring.CqReady()
		st.mu.Unlock()
		if ready >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ring holds %d completions after 3 s, want %d", ready, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// submitNow makes the queued registration changes reach the kernel without
// reaping anything: what a Select would do first.
func submitNow(s *Selector) {
	st := s.ur.st
	st.mu.Lock()
	st.submit()
	st.mu.Unlock()
}

func selectTokens(t *testing.T, s *Selector, d time.Duration) map[Token]int {
	t.Helper()
	seen := map[Token]int{}
	ev := NewEvents(64)
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if err := s.Select(ev, 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for e := range ev.All() {
			seen[e.Token()]++
		}
	}
	return seen
}

// TestUringStaleCompletionsNeverReported: completions that sit in the ring
// for a registration since changed (Reregister) or removed (Deregister,
// and a new registration of the same fd) are never reported.
func TestUringStaleCompletionsNeverReported(t *testing.T) {
	s := newUringSelector(t)
	r, w := uringPipe(t)
	if err := s.Register(r, 1, Readable); err != nil {
		t.Fatal(err)
	}
	submitNow(s)
	unix.Write(w, []byte("x"))
	waitCQ(t, s, 1) // token 1's completion waits in the ring
	if err := s.Reregister(r, 2, Readable); err != nil {
		t.Fatal(err)
	}
	seen := selectTokens(t, s, 100*time.Millisecond)
	if seen[1] != 0 || seen[2] == 0 {
		t.Fatalf("after Reregister: %v, want token 2 only", seen)
	}
	unix.Write(w, []byte("y"))
	waitCQ(t, s, 1)
	if err := s.Deregister(r); err != nil {
		t.Fatal(err)
	}
	if seen := selectTokens(t, s, 50*time.Millisecond); len(seen) != 0 {
		t.Fatalf("after Deregister: %v, want nothing", seen)
	}
	// A completion for the old registration, then the same fd registered
	// again: only the new token.
	if err := s.Register(r, 3, Readable); err != nil {
		t.Fatal(err)
	}
	submitNow(s)
	unix.Write(w, []byte("z"))
	waitCQ(t, s, 1)
	s.Deregister(r)
	if err := s.Register(r, 4, Readable); err != nil {
		t.Fatal(err)
	}
	seen = selectTokens(t, s, 100*time.Millisecond)
	if seen[3] != 0 || seen[4] == 0 {
		t.Fatalf("after Deregister and Register: %v, want token 4 only", seen)
	}
	// A completion for fd r in the ring, r deregistered, another fd (not
	// ready) registered in the slot r had: nothing may be reported for it.
	unix.Read(r, make([]byte, 16))
	selectTokens(t, s, 20*time.Millisecond)
	unix.Write(w, []byte("z"))
	waitCQ(t, s, 1)
	s.Deregister(r)
	r2, _ := uringPipe(t)
	if err := s.Register(r2, 5, Readable); err != nil {
		t.Fatal(err)
	}
	if seen := selectTokens(t, s, 100*time.Millisecond); len(seen) != 0 {
		t.Fatalf("an idle fd in a reused slot: %v, want nothing", seen)
	}
}

// TestUringOverflowRearms: more completions than the CQ ring holds. The
// kernel keeps them (IORING_FEAT_NODROP) and ends the multishot polls whose
// completions overflowed; every fd must still be reported, and reported
// again on new data (re-armed).
func TestUringOverflowRearms(t *testing.T) {
	needUring(t)
	savedSQ, savedCQ := uringSQEntries, uringCQEntries
	uringSQEntries, uringCQEntries = 4, 8
	s, err := New(WithBackend("io_uring"))
	uringSQEntries, uringCQEntries = savedSQ, savedCQ
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 40
	var rs, ws [n]int
	for i := range n {
		rs[i], ws[i] = uringPipe(t)
		if err := s.Register(rs[i], Token(i), Readable); err != nil {
			t.Fatal(err)
		}
	}
	submitNow(s)
	for round := range 3 {
		for i := range n {
			unix.Write(ws[i], []byte("x"))
		}
		time.Sleep(20 * time.Millisecond) // let them pile up past the ring
		if round == 0 && !s.ur.st.ring.CqOverflowPending() {
			t.Logf("the CQ ring did not overflow in round %d (%d ready)", round, s.ur.st.ring.CqReady())
		}
		seen := map[Token]bool{}
		ev := NewEvents(4) // smaller than the backlog too
		for deadline := time.Now().Add(3 * time.Second); len(seen) < n && time.Now().Before(deadline); {
			if err := s.Select(ev, 10*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			for e := range ev.All() {
				seen[e.Token()] = true
			}
		}
		if len(seen) != n {
			t.Fatalf("round %d: %d of %d fds reported", round, len(seen), n)
		}
		var buf [16]byte
		for i := range n {
			unix.Read(rs[i], buf[:])
		}
	}
}

// TestUringThreadExitRearms: a multishot poll ends (-ECANCELED) when the
// thread that submitted it exits, as a locked goroutine's thread does when
// the goroutine returns; the registration must go on working.
func TestUringThreadExitRearms(t *testing.T) {
	s := newUringSelector(t)
	r, w := uringPipe(t)
	// A goroutine that ends locked ends its thread, except on the main
	// thread, which the runtime keeps (runtime.mexit): hold that one and
	// try again.
	holdMain := make(chan struct{})
	defer close(holdMain)
	tid := 0
	for attempt := 0; attempt < 20 && tid == 0; attempt++ {
		armed := make(chan int, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			if unix.Gettid() == unix.Getpid() {
				armed <- 0
				<-holdMain
				runtime.UnlockOSThread()
				return
			}
			if err := s.Register(r, 9, Readable); err != nil {
				t.Error(err)
			}
			s.Select(NewEvents(4), 0) // submits from this thread
			armed <- unix.Gettid()
		}()
		tid = <-armed
	}
	if tid == 0 {
		t.Fatal("no goroutine off the main thread in 20 tries")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid)); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d still alive 5 s after its locked goroutine ended", tid)
		}
	}
	// The wake-up finds the submitter gone: the poll ends with -ECANCELED,
	// and the selector arms it again, which reports the data.
	unix.Write(w, []byte("x"))
	if seen := selectTokens(t, s, 300*time.Millisecond); seen[9] == 0 {
		t.Fatalf("after the submitting thread exited: %v, want token 9", seen)
	}
	unix.Read(r, make([]byte, 8))
	unix.Write(w, []byte("y"))
	if seen := selectTokens(t, s, 300*time.Millisecond); seen[9] == 0 {
		t.Fatalf("the re-armed poll: %v, want token 9", seen)
	}
}

// TestUringCloneFds: each clone has a descriptor of its own, close-on-exec,
// closed with it; the ring lives until the last.
func TestUringCloneFds(t *testing.T) {
	s := newUringSelector(t)
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	if c.Backend() != "io_uring" || c.Fd() == s.Fd() || c.Fd() < 0 {
		t.Fatalf("clone: %s fd %d, original fd %d", c.Backend(), c.Fd(), s.Fd())
	}
	cfd := c.Fd()
	r, w := uringPipe(t)
	if err := s.Register(r, 5, Readable); err != nil {
		t.Fatal(err)
	}
	s.Close()
	unix.Write(w, []byte("x"))
	if seen := selectTokens(t, c, 100*time.Millisecond); seen[5] == 0 {
		t.Fatalf("the clone after the original's Close: %v", seen)
	}
	c.Close()
	if _, err := unix.FcntlInt(uintptr(cfd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("the clone's descriptor is open after Close: %v", err)
	}
	if c.ur.st.ring != nil {
		t.Fatal("the ring outlived its last Selector")
	}
}

func uringSocketpair(t *testing.T) (a, b int) {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

// completions selects until pred is satisfied by the completions seen so
// far (or 3 s pass), copying each (Buf included, since it is lent).
func completions(t *testing.T, s *Selector, ev *Events, pred func([]Completion) bool) []Completion {
	t.Helper()
	var got []Completion
	for deadline := time.Now().Add(3 * time.Second); !pred(got); {
		if time.Now().After(deadline) {
			t.Fatalf("completions so far: %+v", got)
		}
		if err := s.Select(ev, 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for _, c := range ev.Completions() {
			if c.Op == OpRecv { // lent: copy; a Send's buffer is the caller's own
				c.Buf = append([]byte(nil), c.Buf...)
			}
			got = append(got, c)
		}
	}
	return got
}

// TestUringSendRecv: data in through Recv's buffer ring, out through Send,
// the buffer handed back with its completion, end of file, and EPIPE (no
// SIGPIPE) after the peer is gone.
func TestUringSendRecv(t *testing.T) {
	s := newUringSelector(t)
	a, b := uringSocketpair(t)
	if err := s.Recv(a, 11); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "second Recv", s.Recv(a, 11), syscall.EEXIST)
	ev := NewEvents(8)
	unix.Write(b, []byte("hello"))
	got := completions(t, s, ev, func(c []Completion) bool { return len(c) > 0 })
	if c := got[0]; c.Op != OpRecv || c.Token != 11 || c.Res != 5 || string(c.Buf) != "hello" || !c.More {
		t.Fatalf("recv completion %+v", c)
	}
	out := []byte("world!")
	if err := s.Send(a, 12, out); err != nil {
		t.Fatal(err)
	}
	got = completions(t, s, ev, func(c []Completion) bool { return len(c) > 0 })
	if c := got[0]; c.Op != OpSend || c.Token != 12 || c.Res != len(out) || &c.Buf[0] != &out[0] || c.Err() != nil {
		t.Fatalf("send completion %+v", c)
	}
	buf := make([]byte, 16)
	if n, _ := unix.Read(b, buf); string(buf[:n]) != "world!" {
		t.Fatalf("the peer read %q", buf[:n])
	}
	unix.Shutdown(b, unix.SHUT_WR)
	got = completions(t, s, ev, func(c []Completion) bool { return len(c) > 0 })
	if c := got[0]; c.Op != OpRecv || c.Res != 0 || c.More {
		t.Fatalf("end of file: %+v", c)
	}
	unix.Close(b)
	if err := s.Send(a, 13, []byte("late")); err != nil {
		t.Fatal(err)
	}
	got = completions(t, s, ev, func(c []Completion) bool { return len(c) > 0 })
	if c := got[0]; c.Op != OpSend || !errors.Is(c.Err(), syscall.EPIPE) {
		t.Fatalf("send to a closed peer: %+v (%v)", got[0], got[0].Err())
	}
	// A Recv that ended can be started again.
	if err := s.Recv(a, 11); err != nil {
		t.Fatalf("Recv after end of file: %v", err)
	}
}

func wantErrno(t *testing.T, what string, err error, e syscall.Errno) {
	t.Helper()
	if !errors.Is(err, e) {
		t.Fatalf("%s: %v, want %v", what, err, e)
	}
}

// TestUringRecvManyChunks: more chunks than the ring has buffers, through
// Events smaller than the backlog: every byte arrives, in order, since
// each Select gives back what the last one lent.
func TestUringRecvManyChunks(t *testing.T) {
	s := newUringSelector(t)
	a, b := uringSocketpair(t)
	if err := s.Recv(a, 1); err != nil {
		t.Fatal(err)
	}
	ev := NewEvents(3)
	const total = 3 * uringBufCount * 8 // 8 bytes a chunk: many chunks
	next, sent := 0, 0
	msg := make([]byte, 8)
	for deadline := time.Now().Add(10 * time.Second); next < total; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d bytes received", next, total)
		}
		for k := 0; k < 64 && sent < total; k++ {
			for i := range msg {
				msg[i] = byte(sent + i)
			}
			if n, err := unix.Write(b, msg); err != nil || n != len(msg) {
				break // full: the loop drains
			}
			sent += len(msg)
		}
		if err := s.Select(ev, 5*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for _, c := range ev.Completions() {
			if c.Op != OpRecv || c.Res <= 0 {
				t.Fatalf("completion %+v (%v)", c, c.Err())
			}
			for i, x := range c.Buf {
				if x != byte(next+i) {
					t.Fatalf("byte %d is %d, want %d", next+i, x, byte(next+i))
				}
			}
			next += c.Res
		}
	}
}

// TestUringDeregisterStopsRecv: after Deregister no chunk is reported,
// and chunks still in the ring give their buffers back.
func TestUringDeregisterStopsRecv(t *testing.T) {
	s := newUringSelector(t)
	a, b := uringSocketpair(t)
	if err := s.Recv(a, 1); err != nil {
		t.Fatal(err)
	}
	submitNow(s)
	unix.Write(b, []byte("x"))
	waitCQ(t, s, 1)
	if err := s.Deregister(a); err != nil {
		t.Fatalf("Deregister of an fd with only a Recv: %v", err)
	}
	unix.Write(b, []byte("y"))
	ev := NewEvents(8)
	for range 10 {
		if err := s.Select(ev, 5*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if len(ev.Completions()) != 0 {
			t.Fatalf("after Deregister: %+v", ev.Completions())
		}
	}
	wantErrno(t, "second Deregister", s.Deregister(a), syscall.ENOENT)
}

// TestUringSendRecvNoAllocs: a ping-pong through Send and Recv allocates
// nothing once warm.
func TestUringSendRecvNoAllocs(t *testing.T) {
	s := newUringSelector(t)
	a, b := uringSocketpair(t)
	if err := s.Recv(a, 1); err != nil {
		t.Fatal(err)
	}
	ev := NewEvents(8)
	out, ping := []byte("pong"), []byte("ping")
	in := make([]byte, 8)
	round := func() {
		unix.Write(b, ping)
		for got := false; !got; {
			if err := s.Select(ev, time.Second); err != nil {
				t.Fatal(err)
			}
			for _, c := range ev.Completions() {
				if c.Op == OpRecv {
					if err := s.Send(a, 2, out); err != nil {
						t.Fatal(err)
					}
				}
				got = got || c.Op == OpSend
			}
		}
		unix.Read(b, in)
	}
	for range 50 {
		round()
	}
	if n := testing.AllocsPerRun(200, round); n != 0 {
		t.Fatalf("%v allocations per round trip", n)
	}
}

// TestUringSendWholeBufferAndOnePerFd: a send larger than the socket takes
// completes whole once the peer reads it all (MSG_WAITALL), and a second
// Send on the fd meanwhile is EBUSY (the kernel would not keep them in
// order).
func TestUringSendWholeBufferAndOnePerFd(t *testing.T) {
	s := newUringSelector(t)
	a, b := uringSocketpair(t)
	unix.SetsockoptInt(a, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i % 251)
	}
	if err := s.Send(a, 1, big); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "second Send in flight", s.Send(a, 2, []byte("x")), syscall.EBUSY)
	ev := NewEvents(4)
	buf := make([]byte, 64<<10)
	got, done := 0, false
	for deadline := time.Now().Add(10 * time.Second); !done || got < len(big); {
		if time.Now().After(deadline) {
			t.Fatalf("read %d of %d, completion %v", got, len(big), done)
		}
		if n, _ := unix.Read(b, buf); n > 0 {
			for i, x := range buf[:n] {
				if x != byte((got+i)%251) {
					t.Fatalf("byte %d is %d", got+i, x)
				}
			}
			got += n
		}
		if err := s.Select(ev, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for _, c := range ev.Completions() {
			if c.Op != OpSend || c.Res != len(big) {
				t.Fatalf("completion %+v: want the whole %d bytes", c, len(big))
			}
			done = true
		}
	}
	if err := s.Send(a, 3, []byte("next")); err != nil {
		t.Fatalf("Send after the completion: %v", err)
	}
}

// TestUringStopRecvLosesNothing: StopRecv pauses a receive for flow
// control; every byte the kernel took is still reported, the last
// completion says it stopped, and a new Recv gets the rest.
func TestUringStopRecvLosesNothing(t *testing.T) {
	s := newUringSelector(t)
	a, b := uringSocketpair(t)
	if err := s.Recv(a, 1); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "StopRecv without a Recv", s.StopRecv(b), syscall.ENOENT)
	const total = 256 << 10
	sent := 0
	msg := make([]byte, 1000)
	write := func() {
		for sent < total {
			k := min(len(msg), total-sent)
			for i := range msg[:k] {
				msg[i] = byte((sent + i) % 251)
			}
			n, err := unix.Write(b, msg[:k])
			if err != nil {
				return // full
			}
			sent += n
		}
	}
	ev := NewEvents(4)
	got, stopped, resumed := 0, false, false
	// The kernel may hand over every byte before it processes the cancel,
	// so the loop also waits for the end StopRecv asked for (CI saw it).
	for deadline := time.Now().Add(10 * time.Second); got < total || !resumed; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d bytes (stopped %v, resumed %v)", got, total, stopped, resumed)
		}
		write()
		if err := s.Select(ev, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for _, c := range ev.Completions() {
			for i, x := range c.Buf {
				if x != byte((got+i)%251) {
					t.Fatalf("byte %d is %d: lost or reordered", got+i, x)
				}
			}
			got += max(c.Res, 0)
			if !c.More {
				if !stopped || resumed {
					t.Fatalf("an end nobody asked for: %+v", c)
				}
				if c.Res < 0 && !errors.Is(c.Err(), syscall.ECANCELED) {
					t.Fatalf("last completion %+v: %v", c, c.Err())
				}
				if err := s.Recv(a, 1); err != nil {
					t.Fatalf("Recv after the stop: %v", err)
				}
				resumed = true
			}
		}
		if !stopped && got > total/4 {
			if err := s.StopRecv(a); err != nil {
				t.Fatal(err)
			}
			wantErrno(t, "Recv while stopping", s.Recv(a, 1), syscall.EEXIST)
			stopped = true
		}
	}
	if got != total {
		t.Fatalf("%d of %d bytes", got, total)
	}
}
