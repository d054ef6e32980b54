//go:build unix

package selector_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// Properties an expected event must have (or must not have).
type prop uint8

const (
	pReadable prop = 1 << iota
	pWritable
	pError
	pReadClosed
	pWriteClosed
	pPriority
)

func (p prop) String() string {
	var parts []string
	for bit, name := range []string{"readable", "writable", "error", "read_closed", "write_closed", "priority"} {
		if p&(1<<bit) != 0 {
			parts = append(parts, name)
		}
	}
	return strings.Join(parts, "|")
}

func propsOf(e *selector.Event) prop {
	var p prop
	for _, c := range []struct {
		ok  bool
		bit prop
	}{
		{e.IsReadable(), pReadable}, {e.IsWritable(), pWritable}, {e.IsError(), pError},
		{e.IsReadClosed(), pReadClosed}, {e.IsWriteClosed(), pWriteClosed}, {e.IsPriority(), pPriority},
	} {
		if c.ok {
			p |= c.bit
		}
	}
	return p
}

// want is an event expected for token tok with at least the properties in
// has and none of those in not.
type want struct {
	tok selector.Token
	has prop
	not prop
}

func newSelector(t testing.TB) *selector.Selector {
	t.Helper()
	s, err := selector.New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func register(t testing.TB, s *selector.Selector, fd int, tok selector.Token, in selector.Interest) {
	t.Helper()
	if err := s.Register(fd, tok, in); err != nil {
		t.Fatalf("Register(fd %d, token %d, %v): %v", fd, tok, in, err)
	}
}

// collect selects until every wanted event has been seen or 3 s pass, and
// returns what it saw, merged per token.
func collect(t testing.TB, s *selector.Selector, ev *selector.Events, wants []want) map[selector.Token]prop {
	t.Helper()
	seen := map[selector.Token]prop{}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if err := s.Select(ev, 50*time.Millisecond); err != nil {
			t.Fatalf("Select: %v", err)
		}
		for e := range ev.All() {
			seen[e.Token()] |= propsOf(e)
		}
		done := true
		for _, w := range wants {
			if p, ok := seen[w.tok]; !ok || p&w.has != w.has {
				done = false
			}
		}
		if done {
			break
		}
	}
	return seen
}

// expectEvents waits (bounded) for the wanted events and checks them.
func expectEvents(t testing.TB, s *selector.Selector, wants ...want) map[selector.Token]prop {
	t.Helper()
	seen := collect(t, s, selector.NewEvents(64), wants)
	for _, w := range wants {
		p, ok := seen[w.tok]
		switch {
		case !ok:
			t.Fatalf("no event for token %d (saw %v)", w.tok, seen)
		case p&w.has != w.has:
			t.Fatalf("token %d: properties %v, want at least %v", w.tok, p, w.has)
		case p&w.not != 0:
			t.Fatalf("token %d: properties %v, must not have %v", w.tok, p, p&w.not)
		}
	}
	return seen
}

// expectNoEvents selects for d and fails on any event.
func expectNoEvents(t testing.TB, s *selector.Selector, d time.Duration) {
	t.Helper()
	ev := selector.NewEvents(16)
	if err := s.Select(ev, d); err != nil {
		t.Fatalf("Select: %v", err)
	}
	if ev.Len() != 0 {
		var got []string
		for e := range ev.All() {
			got = append(got, e.String())
		}
		t.Fatalf("expected no events, got %d: %v", ev.Len(), got)
	}
}

func closeOnCleanup(t testing.TB, fds ...int) {
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
}

func pipe(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, p[0], p[1])
	nonblockCloexec(t, p[0], p[1])
	return p[0], p[1]
}

func socketpair(t testing.TB) (a, b int) {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, p[0], p[1])
	nonblockCloexec(t, p[0], p[1])
	return p[0], p[1]
}

// nonblockCloexec sets O_NONBLOCK and FD_CLOEXEC the portable way (darwin
// has neither SOCK_NONBLOCK nor pipe2); tests do not fork, so the window
// before FD_CLOEXEC does not matter here.
func nonblockCloexec(t testing.TB, fds ...int) {
	t.Helper()
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
		unix.CloseOnExec(fd)
	}
}

// socket creates a non-blocking, close-on-exec IPv4 socket.
func socket(t testing.TB, typ int) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, typ, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, fd)
	nonblockCloexec(t, fd)
	return fd
}

// tcpListener listens on 127.0.0.1 on an ephemeral port.
func tcpListener(t testing.TB) (fd, port int) {
	t.Helper()
	fd = socket(t, unix.SOCK_STREAM)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*unix.SockaddrInet4).Port
}

// tcpConnect starts a non-blocking connect to 127.0.0.1:port.
func tcpConnect(t testing.TB, port int) int {
	t.Helper()
	fd := socket(t, unix.SOCK_STREAM)
	err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
	if err != nil && err != unix.EINPROGRESS {
		t.Fatalf("connect: %v", err)
	}
	return fd
}

// accept accepts one connection, retrying (bounded) while none is queued.
func accept(t testing.TB, lfd int) int {
	t.Helper()
	for range 3000 {
		nfd, _, err := unix.Accept(lfd)
		if err == nil {
			closeOnCleanup(t, nfd)
			nonblockCloexec(t, nfd)
			return nfd
		}
		if err != unix.EAGAIN {
			t.Fatalf("accept: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("accept: no connection within 3 s")
	return -1
}

// tcpPair returns both ends of an established loopback TCP connection.
func tcpPair(t testing.TB) (client, server int) {
	t.Helper()
	lfd, port := tcpListener(t)
	client = tcpConnect(t, port)
	return client, accept(t, lfd)
}

func write(t testing.TB, fd int, p []byte) {
	t.Helper()
	if n, err := unix.Write(fd, p); err != nil || n != len(p) {
		t.Fatalf("write(fd %d) = %d, %v", fd, n, err)
	}
}

// drain reads fd until EAGAIN (or EOF) and returns the byte count.
func drain(t testing.TB, fd int) int {
	t.Helper()
	buf := make([]byte, 64<<10)
	total := 0
	for range 1 << 16 {
		n, err := unix.Read(fd, buf)
		if err == unix.EAGAIN || n == 0 {
			return total
		}
		if err != nil {
			t.Fatalf("read(fd %d): %v", fd, err)
		}
		total += n
	}
	t.Fatal("drain: no EAGAIN")
	return total
}

func isCloexec(t testing.TB, fd int) bool {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatalf("F_GETFD(%d): %v", fd, err)
	}
	return flags&unix.FD_CLOEXEC != 0
}

// countFds counts this process's open descriptors.
func countFds(t testing.TB) int {
	t.Helper()
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		if ents, err := os.ReadDir(dir); err == nil {
			return len(ents)
		}
	}
	t.Fatal("cannot count descriptors: neither /proc/self/fd nor /dev/fd")
	return 0
}

func wantErrIs(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want errors.Is(err, %v)", what, err, target)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%q", err.Error())
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// within runs f in another goroutine and fails the test when f returns an
// error or has not returned after d: for calls that a bug could leave
// blocked forever.
func within(t testing.TB, d time.Duration, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
	}
}
