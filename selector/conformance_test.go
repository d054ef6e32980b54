//go:build unix

package selector_test

// The conformance suite: one set of behaviours, taken from mio's own tests
// (tests/poll.rs, registering.rs, tcp*.rs, unix_pipe.rs, waker.rs,
// regressions.rs), run against whichever backend this build selects. Where
// backends legitimately differ, the difference is an expectation in
// backendExpectations, never a skip.

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// expectation lists what differs between backends.
type expectation struct {
	// Errors (errors.Is targets; nil means success).
	doubleRegister         error
	deregisterUnregistered error
	reregisterUnregistered error
	registerRegularFile    error
	// priority is whether Priority can be registered (else the error).
	priorityErr error
	// aioErr and lioErr are the errors for registering AIO and LIO.
	aioErr, lioErr error
	// hasFd is whether Fd() names a descriptor (epoll, kqueue) or is -1
	// (poll keeps its registrations in user space).
	hasFd bool
}

var backendExpectations = map[string]expectation{
	"epoll": {
		doubleRegister:         syscall.EEXIST,
		deregisterUnregistered: syscall.ENOENT,
		reregisterUnregistered: syscall.ENOENT,
		registerRegularFile:    syscall.EPERM,
		priorityErr:            nil,
		aioErr:                 selector.ErrUnsupportedInterest,
		lioErr:                 selector.ErrUnsupportedInterest,
		hasFd:                  true,
	},
	"poll": {
		doubleRegister:         syscall.EEXIST,
		deregisterUnregistered: syscall.ENOENT,
		reregisterUnregistered: syscall.ENOENT,
		registerRegularFile:    nil, // poll(2) reports regular files always ready
		priorityErr:            nil,
		aioErr:                 selector.ErrUnsupportedInterest,
		lioErr:                 selector.ErrUnsupportedInterest,
		hasFd:                  false,
	},
	// io_uring: the table of registrations is the selector's own, as on
	// poll; a regular file is refused as epoll refuses it (a poll request
	// on one completes at once and would be reported by every Select).
	"io_uring": {
		doubleRegister:         syscall.EEXIST,
		deregisterUnregistered: syscall.ENOENT,
		reregisterUnregistered: syscall.ENOENT,
		registerRegularFile:    syscall.EPERM,
		priorityErr:            nil,
		aioErr:                 selector.ErrUnsupportedInterest,
		lioErr:                 selector.ErrUnsupportedInterest,
		hasFd:                  true,
	},
	// kqueue: EV_ADD on a registered filter modifies it, and EV_DELETE of
	// a filter that is not there (ENOENT) is tolerated, as in mio.
	"kqueue": {
		doubleRegister:         nil,
		deregisterUnregistered: nil,
		reregisterUnregistered: nil,
		registerRegularFile:    nil, // EVFILT_READ works on regular files
		priorityErr:            selector.ErrUnsupportedInterest,
		aioErr:                 selector.ErrUnsupportedInterest, // see conformance_kqueue_*_test.go
		lioErr:                 selector.ErrUnsupportedInterest,
		hasFd:                  true,
	},
}

func expectFor(t *testing.T, s *selector.Selector) expectation {
	t.Helper()
	e, ok := backendExpectations[s.Backend()]
	if !ok {
		t.Fatalf("backend %q has no row in backendExpectations", s.Backend())
	}
	return e
}

func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: %v, want success", what, err)
		}
		return
	}
	wantErrIs(t, what, err, want)
}

func TestNewBackendAndCloexec(t *testing.T) {
	s := newSelector(t)
	if s.Backend() == "" || s.Backend() == "none" {
		t.Fatalf("Backend() = %q", s.Backend())
	}
	if !expectFor(t, s).hasFd {
		if s.Fd() != -1 {
			t.Fatalf("Fd() = %d on a backend without a descriptor", s.Fd())
		}
		return
	}
	if s.Fd() < 0 {
		t.Fatalf("Fd() = %d", s.Fd())
	}
	if !isCloexec(t, s.Fd()) {
		t.Fatalf("selector fd %d lacks FD_CLOEXEC", s.Fd())
	}
}

func TestListenerReadableOnConnect(t *testing.T) {
	s := newSelector(t)
	lfd, port := tcpListener(t)
	register(t, s, lfd, 1, selector.Readable)
	expectNoEvents(t, s, 10*time.Millisecond)
	tcpConnect(t, port)
	expectEvents(t, s, want{tok: 1, has: pReadable, not: pWritable | pError | pReadClosed | pWriteClosed})
	accept(t, lfd)
}

func TestConnectedStreamWritable(t *testing.T) {
	s := newSelector(t)
	_, port := tcpListener(t)
	c := tcpConnect(t, port)
	register(t, s, c, 2, selector.Writable)
	expectEvents(t, s, want{tok: 2, has: pWritable, not: pError | pWriteClosed})
}

func TestStreamReadableOnData(t *testing.T) {
	s := newSelector(t)
	c, srv := tcpPair(t)
	register(t, s, srv, 3, selector.Readable)
	write(t, c, []byte("hello"))
	expectEvents(t, s, want{tok: 3, has: pReadable, not: pReadClosed | pError})
	if n := drain(t, srv); n != 5 {
		t.Fatalf("read %d bytes, want 5", n)
	}
}

// TestEdgeTriggeredOnce: after an event, no new event arrives until new
// readiness, whether or not the data was read.
func TestEdgeTriggeredOnce(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 4, selector.Readable)
	write(t, w, []byte("x"))
	expectEvents(t, s, want{tok: 4, has: pReadable})
	expectNoEvents(t, s, 20*time.Millisecond) // data still unread: no repeat
}

func TestEdgeTriggeredAfterDrainNeedsNewData(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 5, selector.Readable)
	write(t, w, []byte("abc"))
	expectEvents(t, s, want{tok: 5, has: pReadable})
	drain(t, r)
	s.WouldBlock(r, selector.Readable)
	expectNoEvents(t, s, 20*time.Millisecond)
	write(t, w, []byte("d"))
	expectEvents(t, s, want{tok: 5, has: pReadable})
}

func TestEdgeTriggeredWritableOnce(t *testing.T) {
	s := newSelector(t)
	a, _ := socketpair(t)
	register(t, s, a, 6, selector.Writable)
	expectEvents(t, s, want{tok: 6, has: pWritable})
	expectNoEvents(t, s, 20*time.Millisecond)
}

func TestReregisterChangesToken(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 7, selector.Readable)
	if err := s.Reregister(r, 8, selector.Readable); err != nil {
		t.Fatal(err)
	}
	write(t, w, []byte("x"))
	seen := expectEvents(t, s, want{tok: 8, has: pReadable})
	if _, ok := seen[7]; ok {
		t.Fatalf("event with the old token 7: %v", seen)
	}
}

func TestReregisterChangesInterest(t *testing.T) {
	s := newSelector(t)
	a, b := socketpair(t)
	register(t, s, a, 9, selector.Readable)
	expectNoEvents(t, s, 10*time.Millisecond) // writable, but not asked for
	if err := s.Reregister(a, 9, selector.Writable); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, s, want{tok: 9, has: pWritable})
	write(t, b, []byte("x")) // readable now, but no longer asked for
	ev := selector.NewEvents(8)
	if err := s.Select(ev, 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for e := range ev.All() {
		if e.IsReadable() {
			t.Fatalf("readable event after reregistering for writable only: %v", e)
		}
	}
}

func TestReregisterRearms(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 10, selector.Readable)
	write(t, w, []byte("x"))
	expectEvents(t, s, want{tok: 10, has: pReadable})
	// Still readable (not drained): reregistering reports it again (mio's
	// reregister semantics on every backend).
	if err := s.Reregister(r, 11, selector.Readable); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, s, want{tok: 11, has: pReadable})
}

func TestReregisterUnregistered(t *testing.T) {
	s := newSelector(t)
	r, _ := pipe(t)
	checkErr(t, "Reregister(unregistered)", s.Reregister(r, 1, selector.Readable), expectFor(t, s).reregisterUnregistered)
}

func TestDeregisterStopsEvents(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 12, selector.Readable)
	if err := s.Deregister(r); err != nil {
		t.Fatal(err)
	}
	write(t, w, []byte("x"))
	expectNoEvents(t, s, 30*time.Millisecond)
}

func TestRegisterAfterDeregister(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 13, selector.Readable)
	if err := s.Deregister(r); err != nil {
		t.Fatal(err)
	}
	register(t, s, r, 14, selector.Readable)
	write(t, w, []byte("x"))
	seen := expectEvents(t, s, want{tok: 14, has: pReadable})
	if _, ok := seen[13]; ok {
		t.Fatalf("event with the deregistered token 13: %v", seen)
	}
}

func TestDeregisterUnregistered(t *testing.T) {
	s := newSelector(t)
	r, _ := pipe(t)
	checkErr(t, "Deregister(unregistered)", s.Deregister(r), expectFor(t, s).deregisterUnregistered)
}

func TestRegisterTwice(t *testing.T) {
	s := newSelector(t)
	r, _ := pipe(t)
	register(t, s, r, 15, selector.Readable)
	checkErr(t, "Register twice", s.Register(r, 15, selector.Readable), expectFor(t, s).doubleRegister)
}

func TestBadFds(t *testing.T) {
	s := newSelector(t)
	for _, fd := range []int{-1, math.MinInt32, math.MinInt} {
		wantErrIs(t, "Register(negative)", s.Register(fd, 1, selector.Readable), syscall.EBADF)
		wantErrIs(t, "Reregister(negative)", s.Reregister(fd, 1, selector.Readable), syscall.EBADF)
		wantErrIs(t, "Deregister(negative)", s.Deregister(fd), syscall.EBADF)
	}
	r, w := pipe(t)
	unix.Close(w)
	unix.Close(r)
	// r and w are closed (the cleanup's second close is harmless: nothing
	// else in this test opens a descriptor).
	wantErrIs(t, "Register(closed fd)", s.Register(r, 1, selector.Readable), syscall.EBADF)
	wantErrIs(t, "Register(fd beyond any limit)", s.Register(1<<30, 1, selector.Readable), syscall.EBADF)
}

func TestRegisterErrorNamesFd(t *testing.T) {
	s := newSelector(t)
	err := s.Register(-5, 1, selector.Readable)
	var op *selector.OpError
	if !errors.As(err, &op) || op.Op != "register" || op.Fd != -5 || !strings.Contains(err.Error(), "fd -5") {
		t.Fatalf("Register(-5): %s, want an *OpError naming register and fd -5", errString(err))
	}
}

func TestInvalidInterest(t *testing.T) {
	s := newSelector(t)
	r, _ := pipe(t)
	for _, in := range []selector.Interest{0, 1 << 5, 1 << 7, selector.Readable | 1<<6} {
		wantErrIs(t, "Register(interest "+in.String()+")", s.Register(r, 1, in), selector.ErrInvalidInterest)
	}
	register(t, s, r, 1, selector.Readable)
	wantErrIs(t, "Reregister(interest 0)", s.Reregister(r, 1, 0), selector.ErrInvalidInterest)
}

func TestAIOAndLIO(t *testing.T) {
	s := newSelector(t)
	r, _ := pipe(t)
	exp := expectFor(t, s)
	for in, want := range map[selector.Interest]error{selector.AIO: exp.aioErr, selector.LIO: exp.lioErr, selector.Readable | selector.AIO: exp.aioErr} {
		err := s.Register(r, 1, in)
		checkErr(t, "Register("+in.String()+")", err, want)
		if want != nil && !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("Register(%v): %v does not match errors.ErrUnsupported", in, err)
		}
		if err == nil {
			s.Deregister(r)
		}
	}
}

func TestRegisterRegularFile(t *testing.T) {
	s := newSelector(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "regular"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = s.Register(int(f.Fd()), 1, selector.Readable)
	want := expectFor(t, s).registerRegularFile
	checkErr(t, "Register(regular file)", err, want)
	if want == syscall.EPERM && !strings.Contains(err.Error(), "does not support polling") {
		t.Fatalf("EPERM error does not say why: %v", err)
	}
}

func TestPeerShutdownReadClosed(t *testing.T) {
	s := newSelector(t)
	c, srv := tcpPair(t)
	register(t, s, srv, 16, selector.Readable)
	if err := unix.Shutdown(c, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, s, want{tok: 16, has: pReadable | pReadClosed, not: pError})
}

func TestPeerCloseReadClosed(t *testing.T) {
	s := newSelector(t)
	a, b := socketpair(t)
	register(t, s, a, 17, selector.Readable|selector.Writable)
	expectEvents(t, s, want{tok: 17, has: pWritable})
	unix.Close(b)
	expectEvents(t, s, want{tok: 17, has: pReadClosed})
}

func TestLocalShutdownBothWriteClosed(t *testing.T) {
	s := newSelector(t)
	c, _ := tcpPair(t)
	register(t, s, c, 18, selector.Readable|selector.Writable)
	expectEvents(t, s, want{tok: 18, has: pWritable})
	if err := unix.Shutdown(c, unix.SHUT_RDWR); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, s, want{tok: 18, has: pWriteClosed | pReadClosed})
}

func TestLocalShutdownWriteNotReadClosed(t *testing.T) {
	s := newSelector(t)
	c, _ := tcpPair(t)
	register(t, s, c, 19, selector.Readable|selector.Writable)
	expectEvents(t, s, want{tok: 19, has: pWritable})
	if err := unix.Shutdown(c, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	// Our own half-close must not look like the peer's: no false positive
	// read-closed, and no error.
	ev := selector.NewEvents(8)
	if err := s.Select(ev, 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for e := range ev.All() {
		if e.IsReadClosed() || e.IsError() {
			t.Fatalf("after local SHUT_WR: %v", e)
		}
	}
}

func TestResetReadClosed(t *testing.T) {
	s := newSelector(t)
	c, srv := tcpPair(t)
	register(t, s, srv, 20, selector.Readable)
	if err := unix.SetsockoptLinger(c, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		t.Fatal(err)
	}
	unix.Close(c) // RST
	expectEvents(t, s, want{tok: 20, has: pReadClosed})
}

func TestPipeReaderGoneWriteClosed(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, w, 21, selector.Writable)
	expectEvents(t, s, want{tok: 21, has: pWritable})
	unix.Close(r)
	expectEvents(t, s, want{tok: 21, has: pWriteClosed, not: pReadClosed})
}

func TestPipeWriterGoneReadClosed(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 22, selector.Readable)
	unix.Close(w)
	expectEvents(t, s, want{tok: 22, has: pReadClosed, not: pError})
}

func TestUrgentDataPriority(t *testing.T) {
	s := newSelector(t)
	c, srv := tcpPair(t)
	err := s.Register(srv, 23, selector.Readable|selector.Priority)
	if want := expectFor(t, s).priorityErr; want != nil {
		wantErrIs(t, "Register(Priority)", err, want)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Sendto(c, []byte("!"), unix.MSG_OOB, nil); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, s, want{tok: 23, has: pPriority | pReadable})
}

func TestConnectRefused(t *testing.T) {
	s := newSelector(t)
	lfd, port := tcpListener(t)
	unix.Close(lfd) // nothing listens on port now
	fd := socket(t, unix.SOCK_STREAM)
	err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
	if err == unix.ECONNREFUSED {
		t.Fatalf("connect refused synchronously; the suite expects EINPROGRESS on loopback")
	}
	if err != unix.EINPROGRESS {
		t.Fatalf("connect: %v, want EINPROGRESS", err)
	}
	register(t, s, fd, 24, selector.Readable|selector.Writable)
	seen := expectEvents(t, s, want{tok: 24})
	if p := seen[24]; p&(pError|pWriteClosed) == 0 {
		t.Fatalf("refused connect: properties %v, want error or write_closed", p)
	}
	if soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || syscall.Errno(soerr) != unix.ECONNREFUSED {
		t.Fatalf("SO_ERROR = %v, %v; want ECONNREFUSED", syscall.Errno(soerr), err)
	}
}

func TestUDPReadable(t *testing.T) {
	s := newSelector(t)
	fd := socket(t, unix.SOCK_DGRAM)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	register(t, s, fd, 25, selector.Readable)
	expectNoEvents(t, s, 10*time.Millisecond)
	if err := unix.Sendto(fd, []byte("dgram"), 0, sa); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, s, want{tok: 25, has: pReadable, not: pReadClosed})
}

func TestWritableInterestOnlyIgnoresData(t *testing.T) {
	s := newSelector(t)
	a, b := socketpair(t)
	register(t, s, a, 26, selector.Writable)
	expectEvents(t, s, want{tok: 26, has: pWritable})
	write(t, b, []byte("data"))
	ev := selector.NewEvents(8)
	if err := s.Select(ev, 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for e := range ev.All() {
		if e.IsReadable() {
			t.Fatalf("readable reported for a Writable-only registration: %v", e)
		}
	}
}

// TestMoreReadyThanCapacity: 10 ready fds, capacity 4: every token comes
// back exactly once over the following Selects, none is lost.
func TestMoreReadyThanCapacity(t *testing.T) {
	s := newSelector(t)
	const n = 10
	for i := range n {
		r, w := pipe(t)
		register(t, s, r, selector.Token(100+i), selector.Readable)
		write(t, w, []byte("x"))
	}
	ev := selector.NewEvents(4)
	seen := map[selector.Token]int{}
	for range 20 {
		if err := s.Select(ev, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if ev.Len() > ev.Cap() {
			t.Fatalf("Len %d > Cap %d", ev.Len(), ev.Cap())
		}
		for e := range ev.All() {
			seen[e.Token()]++
		}
		if len(seen) == n {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("saw %d of %d tokens: %v", len(seen), n, seen)
	}
	for tok, c := range seen {
		if c != 1 {
			t.Fatalf("token %d reported %d times", tok, c)
		}
	}
}

func TestWakerFromAnotherGoroutine(t *testing.T) {
	s := newSelector(t)
	w, err := selector.NewWaker(s, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	go func() {
		time.Sleep(20 * time.Millisecond)
		w.Wake()
	}()
	ev := selector.NewEvents(4)
	start := time.Now()
	if err := s.Select(ev, -1); err != nil {
		t.Fatal(err)
	}
	if ev.Len() != 1 || ev.At(0).Token() != 30 || !ev.At(0).IsReadable() {
		t.Fatalf("after Wake: %d events, first %v", ev.Len(), ev.At(0))
	}
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Fatalf("Select(-1) returned after %v, before the Wake", d)
	}
}

func TestWakesCoalesce(t *testing.T) {
	s := newSelector(t)
	w, err := selector.NewWaker(s, 31)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range 10 {
		if err := w.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	ev := selector.NewEvents(16)
	if err := s.Select(ev, time.Second); err != nil {
		t.Fatal(err)
	}
	if ev.Len() != 1 || ev.At(0).Token() != 31 {
		t.Fatalf("10 wakes gave %d events, want 1", ev.Len())
	}
	expectNoEvents(t, s, 20*time.Millisecond)
	w.Wake() // a wake after the event was reported is a new event
	expectEvents(t, s, want{tok: 31, has: pReadable})
}

func TestSeveralWakers(t *testing.T) {
	s := newSelector(t)
	var ws []*selector.Waker
	for i := range 3 {
		w, err := selector.NewWaker(s, selector.Token(40+i))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		ws = append(ws, w)
	}
	ws[0].Wake()
	ws[2].Wake()
	seen := expectEvents(t, s, want{tok: 40, has: pReadable}, want{tok: 42, has: pReadable})
	if _, ok := seen[41]; ok {
		t.Fatalf("waker 41 reported without a wake: %v", seen)
	}
}

func TestWakerOnFdZeroToken(t *testing.T) {
	// A waker whose token is 0 must not be confused with anything else,
	// and token 0 must work for ordinary fds next to a waker.
	s := newSelector(t)
	w, err := selector.NewWaker(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, wr := pipe(t)
	register(t, s, r, 0, selector.Readable)
	write(t, wr, []byte("x"))
	w.Wake()
	expectEvents(t, s, want{tok: 0, has: pReadable}, want{tok: 1, has: pReadable})
}

func TestWakerClose(t *testing.T) {
	s := newSelector(t)
	w, err := selector.NewWaker(s, 50)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wantErrIs(t, "Wake after Close", w.Wake(), selector.ErrClosed)
	expectNoEvents(t, s, 10*time.Millisecond)
	if _, err := selector.NewWaker(nil, 1); !errors.Is(err, selector.ErrNilSelector) {
		t.Fatalf("NewWaker(nil): %v", err)
	}
	var nilw *selector.Waker
	wantErrIs(t, "nil Waker Wake", nilw.Wake(), selector.ErrClosed)
}

func TestWakerAfterSelectorClosed(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	w, err := selector.NewWaker(s, 51)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	wantErrIs(t, "Wake after Selector.Close", w.Wake(), selector.ErrClosed)
	if err := w.Close(); err != nil {
		t.Fatalf("Waker.Close after Selector.Close: %v", err)
	}
	if _, err := selector.NewWaker(s, 52); !errors.Is(err, selector.ErrClosed) {
		t.Fatalf("NewWaker(closed selector): %v, want ErrClosed", err)
	}
}

// TestClonesWakerSurvivesOriginalsClose: closing a Selector deregisters
// its own Wakers from the set it shares with its clones, and only those: a
// Waker made on the clone still wakes it, before and after a Waker of the
// closed Selector is closed, and a Waker closed before its Selector is
// not deregistered twice (its eventfd number, reused by the clone's next
// Waker, stays registered).
func TestClonesWakerSurvivesOriginalsClose(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	early, err := selector.NewWaker(s, 70)
	if err != nil {
		t.Fatal(err)
	}
	if err := early.Close(); err != nil { // its eventfd number is free again
		t.Fatal(err)
	}
	cw, err := selector.NewWaker(c, 71) // most likely early's number
	if err != nil {
		t.Fatal(err)
	}
	defer cw.Close()
	sw, err := selector.NewWaker(s, 72)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ev := selector.NewEvents(4)
	for round := range 2 {
		if err := cw.Wake(); err != nil {
			t.Fatal(err)
		}
		if err := c.Select(ev, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if ev.Len() != 1 || ev.At(0).Token() != 71 {
			t.Fatalf("round %d: the clone's Select got %d events, want one, its own Waker's token 71", round, ev.Len())
		}
		if err := sw.Close(); err != nil { // the closed Selector's Waker: no effect on the clone
			t.Fatal(err)
		}
	}
}

// TestRegisterDuringBlockedSelect: a Register from another goroutine takes
// effect in a Select that is already blocked.
func TestRegisterDuringBlockedSelect(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	write(t, w, []byte("x")) // already readable when registered
	got := make(chan selector.Token, 1)
	go func() {
		ev := selector.NewEvents(4)
		if err := s.Select(ev, 5*time.Second); err != nil || ev.Len() == 0 {
			got <- 0
			return
		}
		got <- ev.At(0).Token()
	}()
	time.Sleep(30 * time.Millisecond) // let it block
	register(t, s, r, 60, selector.Readable)
	select {
	case tok := <-got:
		if tok != 60 {
			t.Fatalf("blocked Select returned token %d, want 60", tok)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("blocked Select did not see the new registration")
	}
}

func TestZeroTimeout(t *testing.T) {
	s := newSelector(t)
	ev := selector.NewEvents(4)
	start := time.Now()
	if err := s.Select(ev, 0); err != nil || ev.Len() != 0 {
		t.Fatalf("Select(0) = %v, %d events", err, ev.Len())
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("Select(0) took %v", d)
	}
	r, w := pipe(t)
	register(t, s, r, 61, selector.Readable)
	write(t, w, []byte("x"))
	if err := s.Select(ev, 0); err != nil || ev.Len() != 1 || ev.At(0).Token() != 61 {
		t.Fatalf("Select(0) with a ready fd = %v, %d events", err, ev.Len())
	}
}

func TestTimeouts(t *testing.T) {
	s := newSelector(t)
	ev := selector.NewEvents(4)
	for _, d := range []time.Duration{time.Nanosecond, 100 * time.Microsecond, 900 * time.Microsecond, 30 * time.Millisecond} {
		start := time.Now()
		if err := s.Select(ev, d); err != nil || ev.Len() != 0 {
			t.Fatalf("Select(%v) = %v, %d events", d, err, ev.Len())
		}
		el := time.Since(start)
		if el < d {
			t.Fatalf("Select(%v) returned after %v: early", d, el)
		}
		if el > d+2*time.Second {
			t.Fatalf("Select(%v) returned after %v: far too late", d, el)
		}
	}
}

// TestSubMillisecondTimeoutNotZero: a 200 µs timeout is never cut to a
// non-blocking poll, on any backend: not even the fastest of 21 waits
// returns early.
func TestSubMillisecondTimeoutNotZero(t *testing.T) {
	s := newSelector(t)
	ev := selector.NewEvents(4)
	var min time.Duration = math.MaxInt64
	for range 21 {
		start := time.Now()
		if err := s.Select(ev, 200*time.Microsecond); err != nil {
			t.Fatal(err)
		}
		min = time.Duration(math.Min(float64(min), float64(time.Since(start))))
	}
	if min < 200*time.Microsecond {
		t.Fatalf("a 200µs Select returned after %v", min)
	}
}

func TestHugeTimeouts(t *testing.T) {
	s := newSelector(t)
	w, err := selector.NewWaker(s, 62)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := selector.NewEvents(4)
	for _, d := range []time.Duration{math.MaxInt64, math.MaxInt64 - 1, 1<<31*time.Millisecond + 1, 365 * 24 * time.Hour} {
		go func() {
			time.Sleep(20 * time.Millisecond)
			w.Wake()
		}()
		start := time.Now()
		if err := s.Select(ev, d); err != nil {
			t.Fatalf("Select(%v): %v", d, err)
		}
		if ev.Len() != 1 || ev.At(0).Token() != 62 {
			t.Fatalf("Select(%v) returned %d events after %v: a huge timeout wrapped", d, ev.Len(), time.Since(start))
		}
	}
}

func TestNegativeTimeoutsBlock(t *testing.T) {
	s := newSelector(t)
	w, err := selector.NewWaker(s, 63)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := selector.NewEvents(4)
	for _, d := range []time.Duration{-1, -time.Second, math.MinInt64} {
		go func() {
			time.Sleep(20 * time.Millisecond)
			w.Wake()
		}()
		start := time.Now()
		if err := s.Select(ev, d); err != nil || ev.Len() != 1 {
			t.Fatalf("Select(%v) = %v, %d events", d, err, ev.Len())
		}
		if el := time.Since(start); el < 10*time.Millisecond {
			t.Fatalf("Select(%v) returned after %v, before the wake", d, el)
		}
	}
}

func TestCloseIdempotentAndErrClosed(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	r, _ := pipe(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if s.Fd() != -1 {
		t.Fatalf("Fd() after Close = %d", s.Fd())
	}
	ev := selector.NewEvents(4)
	wantErrIs(t, "Select after Close", s.Select(ev, 0), selector.ErrClosed)
	wantErrIs(t, "Register after Close", s.Register(r, 1, selector.Readable), selector.ErrClosed)
	wantErrIs(t, "Reregister after Close", s.Reregister(r, 1, selector.Readable), selector.ErrClosed)
	wantErrIs(t, "Deregister after Close", s.Deregister(r), selector.ErrClosed)
	// Whatever the arguments: the closed state is reported first.
	wantErrIs(t, "Register(-1) after Close", s.Register(-1, 1, selector.Readable), selector.ErrClosed)
	wantErrIs(t, "Register(interest 0) after Close", s.Register(r, 1, 0), selector.ErrClosed)
	wantErrIs(t, "Register(AIO|LIO|Priority) after Close", s.Register(r, 1, selector.AIO|selector.LIO|selector.Priority), selector.ErrClosed)
	wantErrIs(t, "Deregister(-1) after Close", s.Deregister(-1), selector.ErrClosed)
	if _, err := s.TryClone(); !errors.Is(err, selector.ErrClosed) {
		t.Fatalf("TryClone after Close: %v", err)
	}
	if _, err := selector.NewWaker(s, 1); !errors.Is(err, selector.ErrClosed) {
		t.Fatalf("NewWaker after Close: %v", err)
	}
}

// TestClosedFdNumberNotReused: after Close, the old descriptor number may
// belong to something else; the Selector must not touch it.
func TestClosedFdNumberNotReused(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	old := s.Fd()
	s.Close()
	other := newSelector(t) // very likely gets the same number
	r, w := pipe(t)
	register(t, other, r, 70, selector.Readable)
	wantErrIs(t, "Deregister on closed selector", s.Deregister(r), selector.ErrClosed)
	write(t, w, []byte("x"))
	if other.Fd() == old {
		t.Logf("fd %d was reused, as intended", old)
	}
	// The registration in the selector that now owns the number is intact.
	expectEvents(t, other, want{tok: 70, has: pReadable})
}

func TestNilAndEmptyEvents(t *testing.T) {
	s := newSelector(t)
	wantErrIs(t, "Select(nil)", s.Select(nil, 0), selector.ErrNoCapacity)
	for _, c := range []int{0, -1, math.MinInt} {
		wantErrIs(t, "Select(cap 0)", s.Select(selector.NewEvents(c), 0), selector.ErrNoCapacity)
	}
	var nilEv *selector.Events
	if nilEv.Len() != 0 || nilEv.Cap() != 0 || nilEv.At(0) != nil {
		t.Fatal("nil *Events accessors")
	}
	for range nilEv.All() {
		t.Fatal("nil *Events yielded an event")
	}
	nilEv.Clear()
}

func TestNilSelector(t *testing.T) {
	var s *selector.Selector
	ev := selector.NewEvents(1)
	wantErrIs(t, "nil Select", s.Select(ev, 0), selector.ErrClosed)
	wantErrIs(t, "nil Register", s.Register(0, 1, selector.Readable), selector.ErrClosed)
	wantErrIs(t, "nil Reregister", s.Reregister(0, 1, selector.Readable), selector.ErrClosed)
	wantErrIs(t, "nil Deregister", s.Deregister(0), selector.ErrClosed)
	if _, err := s.TryClone(); !errors.Is(err, selector.ErrClosed) {
		t.Fatal(err)
	}
	if s.Fd() != -1 || s.Close() != nil {
		t.Fatal("nil Selector Fd/Close")
	}
}

func TestTryClone(t *testing.T) {
	s := newSelector(t)
	c, err := s.TryClone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if expectFor(t, s).hasFd && (c.Fd() == s.Fd() || c.Fd() < 0 || !isCloexec(t, c.Fd())) {
		t.Fatalf("clone fd %d (original %d), cloexec %v", c.Fd(), s.Fd(), isCloexec(t, c.Fd()))
	}
	if c.Backend() != s.Backend() {
		t.Fatalf("clone backend %q", c.Backend())
	}
	r, w := pipe(t)
	register(t, s, r, 80, selector.Readable) // through the original ...
	s.Close()                                // ... which is then closed
	write(t, w, []byte("x"))
	expectEvents(t, c, want{tok: 80, has: pReadable}) // seen through the clone
}

func TestEventsAccessors(t *testing.T) {
	s := newSelector(t)
	ev := selector.NewEvents(8)
	if ev.Cap() != 8 || ev.Len() != 0 || ev.At(0) != nil {
		t.Fatalf("fresh Events: cap %d len %d", ev.Cap(), ev.Len())
	}
	for i := range 3 {
		r, w := pipe(t)
		register(t, s, r, selector.Token(90+i), selector.Readable)
		write(t, w, []byte("x"))
	}
	if err := s.Select(ev, time.Second); err != nil {
		t.Fatal(err)
	}
	if ev.Len() != 3 {
		// All three were ready before the call and the buffer holds 8.
		t.Fatalf("one Select returned %d of 3 ready events", ev.Len())
	}
	if ev.At(-1) != nil || ev.At(3) != nil || ev.At(ev.Cap()) != nil {
		t.Fatal("At out of range is not nil")
	}
	// Every event, each the record At gives (All walks a pointer).
	i := 0
	for e := range ev.All() {
		if e != ev.At(i) {
			t.Fatalf("All()[%d] is not At(%d)", i, i)
		}
		i++
	}
	if i != ev.Len() {
		t.Fatalf("All iterated %d of %d events", i, ev.Len())
	}
	i = 0
	for e := range ev.All() {
		if e != ev.At(i) {
			t.Fatalf("All()[%d] is not At(%d): not a view", i, i)
		}
		if e.Token() < 90 || e.Token() > 92 {
			t.Fatalf("token %d", e.Token())
		}
		i++
		if i == 2 {
			break // early exit from the iterator
		}
	}
	if i != 2 {
		t.Fatalf("iterated %d", i)
	}
	// The view aliases the buffer: a later Select rewrites what it shows.
	first := ev.At(0)
	ev.Clear()
	if ev.Len() != 0 || ev.At(0) != nil {
		t.Fatal("Clear")
	}
	_ = first
}

func TestMaxTokenRoundTrip(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	const tok = selector.Token(math.MaxUint64)
	register(t, s, r, tok, selector.Readable)
	write(t, w, []byte("x"))
	expectEvents(t, s, want{tok: tok, has: pReadable})
}

func TestSelectErrorLeavesNoEvents(t *testing.T) {
	s, err := selector.New()
	if err != nil {
		t.Fatal(err)
	}
	r, w := pipe(t)
	register(t, s, r, 1, selector.Readable)
	write(t, w, []byte("x"))
	ev := selector.NewEvents(4)
	if err := s.Select(ev, time.Second); err != nil || ev.Len() != 1 {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Select(ev, 0); !errors.Is(err, selector.ErrClosed) || ev.Len() != 0 {
		t.Fatalf("Select after Close = %v with %d stale events", err, ev.Len())
	}
}

// TestFdReuseAfterCloseNoStaleToken: an fd closed while registered, whose
// number is reused by a new fd registered with another token, reports only
// the new token (mio regressions.rs: close without deregister).
func TestFdReuseAfterCloseNoStaleToken(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 100, selector.Readable)
	if err := s.Deregister(r); err != nil {
		t.Fatal(err)
	}
	unix.Close(r)
	unix.Close(w)
	r2, w2 := pipe(t)
	register(t, s, r2, 101, selector.Readable)
	write(t, w2, []byte("x"))
	seen := expectEvents(t, s, want{tok: 101, has: pReadable})
	if _, ok := seen[100]; ok {
		t.Fatalf("stale token 100 after fd reuse: %v", seen)
	}
}

func TestEventString(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 12345, selector.Readable)
	write(t, w, []byte("x"))
	ev := selector.NewEvents(1)
	if err := s.Select(ev, time.Second); err != nil || ev.Len() != 1 {
		t.Fatal(err)
	}
	str := ev.At(0).String()
	for _, part := range []string{"token: 12345", "readable: true", "writable: false", "read_closed: false"} {
		if !strings.Contains(str, part) {
			t.Fatalf("String() = %q, lacks %q", str, part)
		}
	}
	if s.Backend() == "epoll" && !strings.Contains(str, "EPOLLIN") {
		t.Fatalf("String() = %q does not name the raw flags", str)
	}
}

func TestInterestString(t *testing.T) {
	for in, want := range map[selector.Interest]string{
		selector.Readable:                     "READABLE",
		selector.Readable | selector.Writable: "READABLE | WRITABLE",
		selector.Priority | selector.LIO:      "PRIORITY | LIO",
		selector.AIO | 1<<7:                   "AIO | 0x80",
		0:                                     "0",
	} {
		if got := in.String(); got != want {
			t.Errorf("Interest(%#x).String() = %q, want %q", uint8(in), got, want)
		}
	}
}

func TestWouldBlockHarmless(t *testing.T) {
	s := newSelector(t)
	r, w := pipe(t)
	register(t, s, r, 110, selector.Readable)
	write(t, w, []byte("x"))
	expectEvents(t, s, want{tok: 110, has: pReadable})
	drain(t, r)
	if err := s.WouldBlock(r, selector.Readable); err != nil {
		t.Fatal(err)
	}
	expectNoEvents(t, s, 20*time.Millisecond)
	write(t, w, []byte("y"))
	expectEvents(t, s, want{tok: 110, has: pReadable})
}

// TestConcurrentRegistrationsAndWakes: several goroutines register,
// reregister, deregister and wake while one selects; every wake is seen.
func TestConcurrentRegistrationsAndWakes(t *testing.T) {
	s := newSelector(t)
	wk, err := selector.NewWaker(s, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, w := pipe(t)
			for i := 0; i < 300; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := selector.Token(g*1000 + i)
				if err := s.Register(r, tok, selector.Readable); err != nil {
					t.Error(err)
					return
				}
				unix.Write(w, []byte("x"))
				if err := s.Reregister(r, tok+1, selector.Readable|selector.Writable); err != nil {
					t.Error(err)
					return
				}
				if err := s.Deregister(r); err != nil {
					t.Error(err)
					return
				}
				drain(t, r)
			}
		}()
	}
	ev := selector.NewEvents(64)
	for i := range 50 {
		wk.Wake()
		found := false
		for range 100 {
			if err := s.Select(ev, 100*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			for e := range ev.All() {
				if e.Token() == 1<<40 {
					found = true
				}
			}
			if found {
				break
			}
		}
		if !found {
			t.Fatalf("wake %d lost", i)
		}
	}
	close(stop)
	wg.Wait()
}

// TestUnknownBackend: a backend name no build knows is an error, not the
// default in disguise; every known name gives a Selector.
func TestUnknownBackend(t *testing.T) {
	for _, name := range []string{"bogus", "EPOLL", "iouring", " epoll"} {
		s, err := selector.New(selector.WithBackend(name))
		if !errors.Is(err, selector.ErrUnknownBackend) || s != nil {
			t.Errorf("New(WithBackend(%q)) = %v, %v; want ErrUnknownBackend", name, s, err)
			s.Close()
		}
	}
	for _, name := range []string{"", "epoll", "io_uring", "kqueue", "poll"} {
		s, err := selector.New(selector.WithBackend(name))
		if err != nil {
			t.Errorf("New(WithBackend(%q)): %v", name, err)
			continue
		}
		t.Logf("WithBackend(%q): %s", name, s.Backend())
		s.Close()
	}
}
