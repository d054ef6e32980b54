//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

package selector_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

func review2UringSelector(t *testing.T) *selector.Selector {
	t.Helper()
	if err := selector.IoUringUnavailable(); err != nil {
		t.Skipf("SKIP: io_uring test not run: %v", err)
	}
	s, err := selector.New(selector.WithBackend("io_uring"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "io_uring" {
		t.Fatalf("Backend() = %q", s.Backend())
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// review2Child runs the named test in a child process (with
// REVIEW2_CHILD=1) and fails if the child does not pass: for bugs that
// crash the process.
func review2Child(t *testing.T, name string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "REVIEW2_CHILD=1")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("child still running after 20 s:\n%s", out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("child %s: %v\n%s", name, err, firstLines(string(out), 12))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// TestReview2UringLentBufSurvivesClose: a Recv completion's Buf is
// documented valid "until the next Select or Clear on these Events", and
// Close may be called from any goroutine. But the last handle's Close
// unmaps the buffer ring (uringHandle.gone: st.bufs.Close()), so a loop
// still copying a chunk when another goroutine closes the Selector (or
// that closes it and then finishes the completions in hand) touches
// unmapped memory: SIGSEGV, the whole process dies.
func TestReview2UringLentBufSurvivesClose(t *testing.T) {
	if os.Getenv("REVIEW2_CHILD") == "" {
		review2UringSelector(t) // skip loudly where io_uring cannot run
		review2Child(t, "TestReview2UringLentBufSurvivesClose")
		return
	}
	s := review2UringSelector(t)
	a, b := socketpair(t)
	if err := s.Recv(a, 5); err != nil {
		t.Fatal(err)
	}
	write(t, b, []byte("hello"))
	ev := selector.NewEvents(8)
	var got []selector.Completion
	for deadline := time.Now().Add(3 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
		if err := s.Select(ev, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		got = ev.Completions()
	}
	if len(got) == 0 || string(got[0].Buf) != "hello" {
		t.Fatalf("completions %+v", got)
	}
	s.Deregister(a)
	s.Close()                          // e.g. a shutdown from another goroutine
	if string(got[0].Buf) != "hello" { // still before the next Select or Clear
		t.Fatalf("lent buffer changed after Close: %q", got[0].Buf)
	}
	unix.Close(a)
}

// TestReview2UringErrClosedSelectClearsCompletions: Completions returns
// "the completions of Sends and Recvs the last Select stored". A Select
// that returns ErrClosed stores none, and clears Len, but uringSelect
// returns before it resets ev.nd, so Completions still hands out the
// previous Select's, whose Bufs point into the buffer ring the Close has
// unmapped (reading one is the SIGSEGV of the test above).
func TestReview2UringErrClosedSelectClearsCompletions(t *testing.T) {
	s := review2UringSelector(t)
	a, b := socketpair(t)
	if err := s.Recv(a, 5); err != nil {
		t.Fatal(err)
	}
	write(t, b, []byte("hello"))
	ev := selector.NewEvents(8)
	for deadline := time.Now().Add(3 * time.Second); len(ev.Completions()) == 0 && time.Now().Before(deadline); {
		if err := s.Select(ev, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if len(ev.Completions()) == 0 {
		t.Fatal("no completion for the data")
	}
	s.Deregister(a)
	s.Close()
	if err := s.Select(ev, 0); err != selector.ErrClosed {
		t.Fatalf("Select after Close: %v", err)
	}
	if ev.Len() != 0 || len(ev.Completions()) != 0 {
		t.Fatalf("after a Select that returned ErrClosed: Len %d, %d completions left from the Select before", ev.Len(), len(ev.Completions()))
	}
}

// TestReview2UringSelfRegistrationLeaksRing: epoll refuses to watch
// itself (Register(s.Fd(), ...) is EINVAL), and "errors as on epoll,
// returned by the call that caused them" is the io_uring backend's
// promise. io_uring accepts it: a poll request on the ring's own file
// holds a reference to that file, so closing every handle never releases
// the ring (io_uring_release needs the last file reference), and the ring
// keeps every file its requests hold: a socket registered with the
// Selector stays open after the Selector's Close and its own close(2), and
// its peer never sees EOF, until the process exits. The same goes for a
// clone's Fd (the same file).
func TestReview2UringSelfRegistrationLeaksRing(t *testing.T) {
	s := review2UringSelector(t)
	a, b := socketpair(t)
	register(t, s, a, 1, selector.Readable)
	selfErr := s.Register(s.Fd(), 2, selector.Readable)
	ev := selector.NewEvents(8)
	if err := s.Select(ev, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	s.Close()
	unix.Close(a) // the Selector is closed: its polls went with the ring
	buf := make([]byte, 8)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n, err := unix.Read(b, buf); n == 0 && err == nil {
			return // EOF: the ring let go of the socket
		}
	}
	t.Fatalf("Register(s.Fd()) = %v (epoll: EINVAL); 2 s after Close and close(2) the registered socket is still open (no EOF at its peer): the ring's poll of itself keeps the ring, and everything it holds, alive", selfErr)
}
