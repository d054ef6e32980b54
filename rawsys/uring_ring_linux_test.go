//go:build amd64 || arm64

package rawsys

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var (
	uringOnce sync.Once
	uringErr  error
)

// needIoUring skips the test, loudly, where io_uring is refused (qemu-user
// has no io_uring_setup: ENOSYS); TestIoUringProbeReportsRefusal checks
// that the probe says so.
func needIoUring(t testing.TB) {
	t.Helper()
	uringOnce.Do(func() { uringErr = ProbeIoUring() })
	if uringErr != nil {
		t.Skipf("SKIP: io_uring ring test not run: %v", uringErr)
	}
}

func newRing(t testing.TB, entries uint32, p *IoUringParams) *IoUring {
	t.Helper()
	needIoUring(t)
	if p == nil {
		p = &IoUringParams{}
	}
	// A request's completion work runs on the thread that submitted it
	// (io_uring's task work, io_req_normal_work_add in io_uring/io_uring.c):
	// on this thread, a completion is posted before the write that causes
	// it returns, which the tests that look at the CQ at once rely on. On
	// another thread it comes when that thread is woken: later (CI saw
	// TestIoUringCQOverflow miss it).
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	r, errno := NewIoUring(entries, p)
	if errno != 0 {
		t.Fatalf("NewIoUring(%d, flags %#x): %v", entries, p.Flags, errno)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func getSqe(t testing.TB, r *IoUring) *IoUringSqe {
	t.Helper()
	s := r.GetSqe()
	if s == nil {
		t.Fatal("GetSqe: SQ ring full")
	}
	return s
}

func submit(t testing.TB, r *IoUring, want int) {
	t.Helper()
	if n, errno := r.Submit(); n != want || errno != 0 {
		t.Fatalf("Submit = %d, %v; want %d", n, errno, want)
	}
}

// reap waits (bounded: 5 s in all, EINTR retried) until n completions are
// ready, then copies and consumes them.
func reap(t testing.TB, r *IoUring, n int) []IoUringCqe {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for int(r.CqReady()) < n {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("%d completions ready after 5s, want %d", r.CqReady(), n)
		}
		ts := Timespec{Nsec: int64(left)}
		ts.Sec, ts.Nsec = ts.Nsec/1e9, ts.Nsec%1e9
		_, errno := r.SubmitAndWait(uint32(n)-r.CqReady(), &ts)
		if errno != 0 && errno != syscall.EINTR && errno != syscall.ETIME {
			t.Fatalf("SubmitAndWait: %v", errno)
		}
	}
	out := make([]IoUringCqe, n)
	for i := range out {
		out[i] = *r.CqeAt(uint32(i))
	}
	r.CqAdvance(uint32(n))
	return out
}

// noMore checks that nothing is ready and nothing arrives within 50 ms.
func noMore(t testing.TB, r *IoUring) {
	t.Helper()
	ts := Timespec{Nsec: 50e6}
	if _, errno := IoUringEnterTimeout(r.Fd(), 0, 1, IORING_ENTER_GETEVENTS, &ts); errno != syscall.ETIME && errno != syscall.EINTR {
		t.Fatalf("wait on an idle ring: %v, want ETIME; ready %d: %+v", errno, r.CqReady(), r.PeekCqe())
	}
	if n := r.CqReady(); n != 0 {
		t.Fatalf("%d unexpected completions, first %+v", n, *r.PeekCqe())
	}
}

func newPipe(t testing.TB) (rd, wr int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func TestIoUringSetup(t *testing.T) {
	needIoUring(t)
	p := IoUringParams{}
	r, errno := NewIoUring(5, &p) // rounded up to a power of two
	if errno != 0 {
		t.Fatal(errno)
	}
	defer r.Close()
	if p.SqEntries != 8 || p.CqEntries != 16 || r.Sq.Entries != 8 || r.Cq.Entries != 16 || r.Sq.Mask != 7 || r.Cq.Mask != 15 {
		t.Fatalf("entries: params sq %d cq %d, ring sq %d/%#x cq %d/%#x; want 8, 16", p.SqEntries, p.CqEntries, r.Sq.Entries, r.Sq.Mask, r.Cq.Entries, r.Cq.Mask)
	}
	const want = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG | IORING_FEAT_POLL_32BITS
	if p.Features&want != want {
		t.Fatalf("features %#x lack %#x", p.Features, want&^p.Features)
	}
	if *r.Params() != p {
		t.Fatalf("Params() %+v, setup returned %+v", *r.Params(), p)
	}
	// io_uring descriptors are always close-on-exec: io_uring/io_uring.c
	// installs them with O_CLOEXEC, and setup has no flag to ask otherwise.
	if fdf, err := unix.FcntlInt(uintptr(r.Fd()), unix.F_GETFD, 0); err != nil || fdf&unix.FD_CLOEXEC == 0 {
		t.Fatalf("ring fd %d: F_GETFD %#x, %v; want FD_CLOEXEC", r.Fd(), fdf, err)
	}
	for i, a := range r.Sq.Array {
		if a != uint32(i) {
			t.Fatalf("SQ array[%d] = %d, want the identity", i, a)
		}
	}

	bad := []struct {
		name    string
		entries uint32
		p       IoUringParams
		want    syscall.Errno
	}{
		{"entries 0", 0, IoUringParams{}, syscall.EINVAL},
		{"entries above IORING_MAX_ENTRIES", IORING_MAX_ENTRIES + 1, IoUringParams{}, syscall.EINVAL},
		{"resv set", 8, IoUringParams{Resv: [3]uint32{0, 1, 0}}, syscall.EINVAL},
		{"unknown flag", 8, IoUringParams{Flags: 1 << 30}, syscall.EINVAL},
		{"CQSIZE below the SQ", 8, IoUringParams{Flags: IORING_SETUP_CQSIZE, CqEntries: 4}, syscall.EINVAL},
	}
	for _, b := range bad {
		if fd, errno := IoUringSetup(b.entries, &b.p); errno != b.want {
			if errno == 0 {
				unix.Close(fd)
			}
			t.Errorf("IoUringSetup(%s) = %d, %v; want %v", b.name, fd, errno, b.want)
		}
	}
	// CLAMP turns the too-large size into the largest one.
	cp := IoUringParams{Flags: IORING_SETUP_CLAMP}
	fd, errno := IoUringSetup(IORING_MAX_ENTRIES*2, &cp)
	if errno != 0 || cp.SqEntries != IORING_MAX_ENTRIES {
		t.Errorf("IoUringSetup(CLAMP, %d) = %v, sq entries %d", IORING_MAX_ENTRIES*2, errno, cp.SqEntries)
	}
	if errno == 0 {
		unix.Close(fd)
	}
	if _, errno := IoUringEnterRaw(-1, 0, 0, 0, nil, 0); errno != syscall.EBADF {
		t.Errorf("IoUringEnterRaw(-1): %v, want EBADF", errno)
	}
	if _, errno := IoUringRegister(1<<30, IORING_REGISTER_PROBE, nil, 0); errno != syscall.EBADF { // -1 is a "blind" register in 6.18
		t.Errorf("IoUringRegister(closed fd): %v, want EBADF", errno)
	}
	fd = r.Fd()
	if errno := r.Close(); errno != 0 || r.Fd() != -1 || r.Sq.Head != nil {
		t.Errorf("Close: %v, fd %d", errno, r.Fd())
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("ring fd %d open after Close (%v)", fd, err)
	}
	if errno := r.Close(); errno != 0 {
		t.Errorf("second Close: %v", errno)
	}
}

// TestIoUringNoSQArray maps a ring without the SQ index array (6.6+),
// where the SQ head and tail index the SQE array directly.
func TestIoUringNoSQArray(t *testing.T) {
	r := newRing(t, 4, &IoUringParams{Flags: IORING_SETUP_NO_SQARRAY})
	if r.Sq.Array != nil {
		t.Fatal("NO_SQARRAY ring has an SQ array view")
	}
	for round := range 3 { // wraps the 4-entry ring
		for i := range 3 {
			s := getSqe(t, r)
			s.PrepNop()
			s.UserData = uint64(round*10 + i)
		}
		submit(t, r, 3)
		for i, c := range reap(t, r, 3) {
			if c.UserData != uint64(round*10+i) || c.Res != 0 {
				t.Fatalf("round %d: cqe %d = %+v", round, i, c)
			}
		}
	}
}

// TestIoUringNopRoundTrip: a NOP completes inside the submitting enter, so
// its completion is read from the ring with no further system call.
func TestIoUringNopRoundTrip(t *testing.T) {
	r := newRing(t, 8, nil)
	if r.PeekCqe() != nil || r.CqReady() != 0 {
		t.Fatal("completion ready on a new ring")
	}
	const token uint64 = 0xfedcba9876543210
	s := getSqe(t, r)
	s.PrepNop()
	s.UserData = token
	if r.CqReady() != 0 || *r.Sq.Tail != 0 {
		t.Fatal("GetSqe published the SQE")
	}
	if n := r.FlushSq(); n != 1 || *r.Sq.Tail != 1 {
		t.Fatalf("FlushSq = %d, tail %d; want 1, 1", n, *r.Sq.Tail)
	}
	if n := r.FlushSq(); n != 1 {
		t.Fatalf("second FlushSq = %d, want still 1 unconsumed", n)
	}
	submit(t, r, 1)
	if *r.Sq.Head != 1 || r.FlushSq() != 0 {
		t.Fatalf("after submit: SQ head %d", *r.Sq.Head)
	}
	// From here on, no system call: the CQE is in the mapped ring.
	if r.CqReady() != 1 {
		t.Fatalf("CqReady = %d after the submitting enter returned, want 1", r.CqReady())
	}
	c := r.PeekCqe()
	if c == nil || c.UserData != token || c.Res != 0 || c.Flags != 0 || c.More() {
		t.Fatalf("cqe %+v, want user data %#x res 0", c, token)
	}
	if c != r.CqeAt(0) || c != &r.Cq.Cqes[0] {
		t.Fatal("PeekCqe, CqeAt(0) and the view disagree")
	}
	if _, ok := c.BufferID(); ok {
		t.Fatal("NOP completion claims a buffer")
	}
	r.CqAdvance(1)
	if *r.Cq.Head != 1 || r.CqReady() != 0 || r.PeekCqe() != nil {
		t.Fatalf("after CqAdvance: head %d ready %d", *r.Cq.Head, r.CqReady())
	}
	if n, errno := r.Submit(); n != 0 || errno != 0 {
		t.Fatalf("Submit with nothing queued = %d, %v", n, errno)
	}

	// Fill the SQ: GetSqe says full, and frees slots once the kernel has
	// consumed them.
	for i := range r.Sq.Entries {
		s := getSqe(t, r)
		s.PrepNop()
		s.UserData = uint64(i)
		if s.Fd != 0 || s.Addr != 0 {
			t.Fatal("GetSqe did not zero the slot")
		}
	}
	if r.GetSqe() != nil || r.SqSpace() != 0 {
		t.Fatalf("GetSqe on a full SQ ring: not nil (space %d)", r.SqSpace())
	}
	submit(t, r, int(r.Sq.Entries))
	if r.SqSpace() != r.Sq.Entries {
		t.Fatalf("SqSpace %d after the kernel consumed everything", r.SqSpace())
	}
	got := reap(t, r, int(r.Sq.Entries))
	for i, c := range got {
		if c.UserData != uint64(i) {
			t.Fatalf("cqe %d has user data %d: completions out of order", i, c.UserData)
		}
	}
	if r.SqDropped() != 0 || r.CqOverflow() != 0 || r.CqOverflowPending() || r.TaskrunPending() {
		t.Fatalf("dropped %d overflow %d flags %#x", r.SqDropped(), r.CqOverflow(), r.SqFlags())
	}
}

// TestIoUringMultishotPoll: one multishot POLL_ADD on a pipe posts a
// completion with IORING_CQE_F_MORE for every write, and POLL_REMOVE ends
// it with a final completion without the flag.
func TestIoUringMultishotPoll(t *testing.T) {
	r := newRing(t, 8, nil)
	rd, wr := newPipe(t)
	const tok = 0x8000000000000001
	s := getSqe(t, r)
	s.PrepPollAdd(rd, POLLIN, IORING_POLL_ADD_MULTI)
	s.UserData = tok
	submit(t, r, 1)
	noMore(t, r) // nothing to read yet
	for i := range 3 {
		if _, errno := Write(wr, []byte{byte(i)}); errno != 0 {
			t.Fatal(errno)
		}
		c := reap(t, r, 1)[0]
		if c.UserData != tok || c.Res&POLLIN == 0 || !c.More() {
			t.Fatalf("write %d: cqe %+v, want user data %#x, POLLIN, IORING_CQE_F_MORE", i, c, uint64(tok))
		}
	}
	noMore(t, r) // edge-triggered: no new write, no new completion

	s = getSqe(t, r)
	s.PrepPollRemove(tok)
	s.UserData = 2
	submit(t, r, 1)
	var removed, final bool
	for _, c := range reap(t, r, 2) {
		switch c.UserData {
		case 2:
			removed = c.Res == 0
		case tok:
			final = c.Res == -int32(syscall.ECANCELED) && !c.More()
		}
		if !removed && !final {
			t.Fatalf("unexpected completion %+v", c)
		}
	}
	if !removed || !final {
		t.Fatalf("remove: removal ok %v, final -ECANCELED without F_MORE %v", removed, final)
	}
	Write(wr, []byte{9})
	noMore(t, r)

	s = getSqe(t, r)
	s.PrepPollRemove(tok)
	s.UserData = 3
	submit(t, r, 1)
	if c := reap(t, r, 1)[0]; c.UserData != 3 || c.Res != -int32(syscall.ENOENT) {
		t.Fatalf("second remove: %+v, want -ENOENT", c)
	}
	// A single-shot poll ends with its first completion.
	s = getSqe(t, r)
	s.PrepPollAdd(rd, POLLIN, 0)
	s.UserData = 4
	submit(t, r, 1)
	if c := reap(t, r, 1)[0]; c.UserData != 4 || c.Res&POLLIN == 0 || c.More() {
		t.Fatalf("single-shot poll: %+v", c)
	}
}

// TestIoUringPollUpdate updates a multishot poll in place: new user data
// and new mask, without re-arming.
func TestIoUringPollUpdate(t *testing.T) {
	r := newRing(t, 8, nil)
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[0])
	defer unix.Close(sp[1])
	const a, b = 100, 200
	s := getSqe(t, r)
	s.PrepPollAdd(sp[0], POLLIN, IORING_POLL_ADD_MULTI)
	s.UserData = a
	submit(t, r, 1)
	noMore(t, r)

	// The update: user data a -> b, mask POLLIN -> POLLOUT. The socket is
	// writable, so the updated poll fires at once, under b.
	s = getSqe(t, r)
	s.PrepPollUpdate(a, b, POLLOUT, IORING_POLL_UPDATE_EVENTS|IORING_POLL_UPDATE_USER_DATA|IORING_POLL_ADD_MULTI)
	s.UserData = 1
	submit(t, r, 1)
	var updated, fired bool
	for _, c := range reap(t, r, 2) {
		switch {
		case c.UserData == 1 && c.Res == 0:
			updated = true
		case c.UserData == b && c.Res&POLLOUT != 0 && c.More():
			fired = true
		default:
			t.Fatalf("unexpected completion %+v (user data %d is the old registration)", c, c.UserData)
		}
	}
	if !updated || !fired {
		t.Fatalf("update completed %v, updated poll fired %v", updated, fired)
	}
	// The old user data is gone; the poll lives on under b.
	s = getSqe(t, r)
	s.PrepPollUpdate(a, 0, POLLIN, IORING_POLL_UPDATE_EVENTS|IORING_POLL_ADD_MULTI)
	s.UserData = 2
	submit(t, r, 1)
	if c := reap(t, r, 1)[0]; c.UserData != 2 || c.Res != -int32(syscall.ENOENT) {
		t.Fatalf("update of the old user data: %+v, want -ENOENT", c)
	}
	// Back to POLLIN under b: writes from the peer fire it, F_MORE set.
	s = getSqe(t, r)
	s.PrepPollUpdate(b, 0, POLLIN, IORING_POLL_UPDATE_EVENTS|IORING_POLL_ADD_MULTI)
	s.UserData = 3
	submit(t, r, 1)
	if c := reap(t, r, 1)[0]; c.UserData != 3 || c.Res != 0 {
		t.Fatalf("update to POLLIN: %+v", c)
	}
	noMore(t, r)
	Write(sp[1], []byte("x"))
	if c := reap(t, r, 1)[0]; c.UserData != b || c.Res&POLLIN == 0 || !c.More() {
		t.Fatalf("after the peer wrote: %+v", c)
	}
	// A bad update (user data flag without the update bit) is refused.
	s = getSqe(t, r)
	s.PrepPollUpdate(b, 7, 0, IORING_POLL_UPDATE_EVENTS)
	s.UserData = 4
	submit(t, r, 1)
	if c := reap(t, r, 1)[0]; c.UserData != 4 || c.Res != -int32(syscall.EINVAL) {
		t.Fatalf("new user data without IORING_POLL_UPDATE_USER_DATA: %+v, want -EINVAL", c)
	}
	// ASYNC_CANCEL ends a poll as POLL_REMOVE does.
	s = getSqe(t, r)
	s.PrepCancel(b, 0)
	s.UserData = 5
	submit(t, r, 1)
	for _, c := range reap(t, r, 2) {
		if !(c.UserData == 5 && c.Res == 0) && !(c.UserData == b && c.Res == -int32(syscall.ECANCELED) && !c.More()) {
			t.Fatalf("cancel: unexpected %+v", c)
		}
	}
}

// TestIoUringCancelFd cancels every request on a descriptor.
func TestIoUringCancelFd(t *testing.T) {
	r := newRing(t, 8, nil)
	rd, _ := newPipe(t)
	for i := range 3 {
		s := getSqe(t, r)
		s.PrepPollAdd(rd, POLLIN, IORING_POLL_ADD_MULTI)
		s.UserData = uint64(10 + i)
	}
	submit(t, r, 3)
	s := getSqe(t, r)
	s.PrepCancelFd(rd, IORING_ASYNC_CANCEL_ALL)
	s.UserData = 1
	submit(t, r, 1)
	cancelled := 0
	for _, c := range reap(t, r, 4) {
		switch {
		case c.UserData == 1 && c.Res == 3:
		case c.UserData >= 10 && c.Res == -int32(syscall.ECANCELED) && !c.More():
			cancelled++
		default:
			t.Fatalf("unexpected %+v", c)
		}
	}
	if cancelled != 3 {
		t.Fatalf("%d polls cancelled, want 3", cancelled)
	}
}

// TestIoUringEnterTimeout: a waiting enter with a nanosecond timeout in an
// IORING_ENTER_EXT_ARG argument returns ETIME at about the right time, by
// both ways of passing it.
func TestIoUringEnterTimeout(t *testing.T) {
	r := newRing(t, 8, nil)
	const d = 30 * time.Millisecond
	ts := Timespec{Nsec: int64(d)}
	arg := &IoUringGeteventsArg{Ts: uint64(uintptr(unsafe.Pointer(&ts)))} // heap: ts escapes with arg
	waits := []struct {
		name string
		wait func() (int, syscall.Errno)
	}{
		{"IoUringEnterTimeout", func() (int, syscall.Errno) {
			return IoUringEnterTimeout(r.Fd(), 0, 1, IORING_ENTER_GETEVENTS, &ts)
		}},
		{"IoUringEnter+IoUringGeteventsArg", func() (int, syscall.Errno) {
			return IoUringEnter(r.Fd(), 0, 1, IORING_ENTER_GETEVENTS|IORING_ENTER_EXT_ARG, unsafe.Pointer(arg), SizeofIoUringGeteventsArg)
		}},
		{"SubmitAndWait", func() (int, syscall.Errno) { return r.SubmitAndWait(1, &ts) }},
	}
	for _, w := range waits {
		start := time.Now()
		n, errno := w.wait()
		el := time.Since(start)
		if errno == syscall.EINTR {
			t.Logf("%s: EINTR after %v; not judged", w.name, el)
			continue
		}
		if errno != syscall.ETIME || n != -1 {
			t.Fatalf("%s = %d, %v; want ETIME", w.name, n, errno)
		}
		if el < d-5*time.Millisecond || el > 5*time.Second {
			t.Fatalf("%s: ETIME after %v for a %v timeout", w.name, el, d)
		}
	}
	// A waiting enter returns as soon as the completion is there.
	s := getSqe(t, r)
	s.PrepNop()
	s.UserData = 9
	long := Timespec{Sec: 5}
	start := time.Now()
	if n, errno := r.SubmitAndWait(1, &long); n != 1 || errno != 0 || r.CqReady() != 1 {
		t.Fatalf("SubmitAndWait(NOP) = %d, %v, ready %d", n, errno, r.CqReady())
	}
	if el := time.Since(start); el > 4*time.Second {
		t.Fatalf("SubmitAndWait with a completion took %v", el)
	}
	r.CqAdvance(1)
	// GETEVENTS with minComplete 0 never waits: the raw stub is fine.
	if n, errno := IoUringEnterRaw(r.Fd(), 0, 0, IORING_ENTER_GETEVENTS, nil, 0); n != 0 || errno != 0 {
		t.Fatalf("GETEVENTS, min 0 = %d, %v", n, errno)
	}
	// A zero timeout: ETIME at once. A signal (the runtime's preemption
	// SIGURG) can still land inside the call: EINTR, retried (CI saw one).
	var zero Timespec
	errno := syscall.EINTR
	for i := 0; i < 10 && errno == syscall.EINTR; i++ {
		_, errno = IoUringEnterTimeout(r.Fd(), 0, 1, IORING_ENTER_GETEVENTS, &zero)
	}
	if errno != syscall.ETIME {
		t.Fatalf("zero timeout: %v, want ETIME", errno)
	}
	// The kernel checks the argument's size.
	if _, errno := IoUringEnter(r.Fd(), 0, 1, IORING_ENTER_GETEVENTS|IORING_ENTER_EXT_ARG, unsafe.Pointer(arg), SizeofIoUringGeteventsArg-8); errno != syscall.EINVAL {
		t.Fatalf("EXT_ARG with a short argsz: %v, want EINVAL", errno)
	}
}

// TestIoUringEnterEINTR: a signal to the thread sleeping in a waiting enter
// makes the stub return EINTR; retrying is left to the caller.
func TestIoUringEnterEINTR(t *testing.T) {
	r := newRing(t, 8, nil)
	tid := make(chan int, 1)
	res := make(chan syscall.Errno, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		ts := Timespec{Sec: 10}
		_, errno := IoUringEnterTimeout(r.Fd(), 0, 1, IORING_ENTER_GETEVENTS, &ts)
		res <- errno
	}()
	target := <-tid
	// The runtime's preemption signal has a handler in every Go program;
	// send it until the waiter reports (a signal that lands before the
	// waiter is in the kernel is simply handled).
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := unix.Tgkill(unix.Getpid(), target, unix.SIGURG); err != nil {
			t.Fatal(err)
		}
		select {
		case errno := <-res:
			if errno != syscall.EINTR {
				t.Fatalf("signalled waiting enter: %v, want EINTR", errno)
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("the waiting enter never returned to signals")
}

// TestIoUringCQOverflow: with a 4-entry CQ and IORING_FEAT_NODROP,
// completions beyond the ring wait in the kernel's overflow list
// (IORING_SQ_CQ_OVERFLOW), none is lost, and an enter with GETEVENTS moves
// them into the ring as it drains. A multishot poll whose completion does
// not fit ends: its completion comes without IORING_CQE_F_MORE (the
// selector must re-arm it).
func TestIoUringCQOverflow(t *testing.T) {
	r := newRing(t, 4, &IoUringParams{Flags: IORING_SETUP_CQSIZE, CqEntries: 4})
	if r.Cq.Entries != 4 {
		t.Fatalf("CQ has %d entries, want 4", r.Cq.Entries)
	}
	efd := newEventfd(t)
	s := getSqe(t, r)
	s.PrepPollAdd(efd, POLLIN, IORING_POLL_ADD_MULTI)
	s.UserData = 99
	submit(t, r, 1)
	const total = 12
	for i := range total {
		s := getSqe(t, r)
		s.PrepNop()
		s.UserData = uint64(i)
		if i%4 == 3 {
			submit(t, r, 4) // submitting while overflowed works
		}
	}
	if r.CqReady() != 4 || !r.CqOverflowPending() {
		t.Fatalf("ready %d, SQ flags %#x; want a full CQ and IORING_SQ_CQ_OVERFLOW", r.CqReady(), r.SqFlags())
	}
	if _, errno := Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}); errno != 0 {
		t.Fatal(errno)
	}
	seen := map[uint64]IoUringCqe{}
	for round := 0; round < 20 && len(seen) < total+1; round++ {
		n := r.CqReady()
		for i := range n {
			c := *r.CqeAt(i)
			if _, dup := seen[c.UserData]; dup {
				t.Fatalf("user data %d completed twice", c.UserData)
			}
			seen[c.UserData] = c
		}
		r.CqAdvance(n)
		// The flush: GETEVENTS with minComplete 0, which cannot block.
		if _, errno := IoUringEnterRaw(r.Fd(), 0, 0, IORING_ENTER_GETEVENTS, nil, 0); errno != 0 {
			t.Fatal(errno)
		}
	}
	for i := range uint64(total) {
		if c, ok := seen[i]; !ok || c.Res != 0 {
			t.Fatalf("NOP %d: %+v, present %v (completions lost in the overflow)", i, c, ok)
		}
	}
	c, ok := seen[99]
	if !ok || c.Res&POLLIN == 0 {
		t.Fatalf("poll completion %+v (present %v)", c, ok)
	}
	if c.More() {
		t.Fatalf("the poll that overflowed kept IORING_CQE_F_MORE: %+v; 6.18 ends it", c)
	}
	if r.CqOverflowPending() || r.CqOverflow() != 0 {
		t.Fatalf("after draining: SQ flags %#x, overflow count %d", r.SqFlags(), r.CqOverflow())
	}
	// The poll is gone: another write posts nothing.
	Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	noMore(t, r)
}

// TestIoUringEnterReleasesP is TestBlockingWaitReleasesP for the waiting
// enter: with GOMAXPROCS=1 one goroutine sleeps in io_uring_enter while
// another keeps running for 200 ms and finally wakes it. With the raw stub
// in its place the sleeping thread keeps the only P: the other goroutine
// runs only when sysmon preempts the sleeper with a signal (every 10 ms,
// forcePreemptNS in runtime/proc.go), which the sleeper sees as EINTR. The
// waiter retries EINTR, as any caller must (a signal can come from
// elsewhere: one EINTR was seen here with the wrapped enter, once in many
// runs), and the test fails on more than 3 of them (the raw stub gets
// about 20) or on a return before the wake.
func TestIoUringEnterReleasesP(t *testing.T) {
	r := newRing(t, 8, nil)
	efd := newEventfd(t)
	s := getSqe(t, r)
	s.PrepPollAdd(efd, POLLIN, IORING_POLL_ADD_MULTI)
	s.UserData = 42
	submit(t, r, 1)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	type result struct {
		errno syscall.Errno
		eintr int
	}
	done := make(chan result, 1)
	go func() {
		var res result
		for range 1000 { // bounded: EINTR retried
			ts := Timespec{Sec: 10}
			_, res.errno = IoUringEnterTimeout(r.Fd(), 0, 1, IORING_ENTER_GETEVENTS, &ts)
			if res.errno != syscall.EINTR {
				break
			}
			res.eintr++
		}
		if res.errno == 0 && r.CqReady() != 1 {
			res.errno = syscall.EIO
		}
		done <- res
	}()
	deadline := time.Now().Add(200 * time.Millisecond)
	spins := 0
	for time.Now().Before(deadline) {
		spins++
		runtime.Gosched()
	}
	if spins == 0 {
		t.Fatal("the other goroutine never ran")
	}
	select {
	case res := <-done:
		t.Fatalf("waiter returned before the wake: %v (after %d EINTR)", res.errno, res.eintr)
	default:
	}
	if _, errno := Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}); errno != 0 {
		t.Fatal(errno)
	}
	select {
	case res := <-done:
		if res.errno != 0 {
			t.Fatalf("waiter: %v", res.errno)
		}
		if res.eintr > 3 {
			t.Fatalf("the waiter saw EINTR %d times in 200 ms: sysmon preempted it, so it kept the P", res.eintr)
		}
		t.Logf("spins %d, EINTR %d", spins, res.eintr)
	case <-time.After(10 * time.Second):
		t.Fatal("waiter not released by the wake")
	}
	if c := r.PeekCqe(); c == nil || c.UserData != 42 || !c.More() {
		t.Fatalf("completion %+v", c)
	}
}

// TestIoUringSubmitterThread documents what a Go program must know about
// the thread a request was submitted from (the kernel runs a request's
// completion work in that task):
//   - completions arrive while that thread sleeps (in a futex, as an idle
//     M does), with the default setup flags;
//   - when that thread exits (a goroutine that ends locked to its thread),
//     the kernel cancels its polls: the next wake-up completes with
//     -ECANCELED without IORING_CQE_F_MORE;
//   - while that thread runs in user space, a completion waits until it
//     next enters the kernel (an IPI when it runs on another CPU, its next
//     time slice when it waits for one): readiness reaches the CQ ring
//     asynchronously, unlike epoll's, whose callback runs in the waker;
//   - IORING_SETUP_SINGLE_ISSUER refuses submission from any other thread
//     (EEXIST), and DEFER_TASKRUN also refuses waiting (EEXIST);
//   - with DEFER_TASKRUN (and TASKRUN_FLAG) the completion work is queued
//     at once, IORING_SQ_TASKRUN says so, and the submitter's next
//     GETEVENTS enter (minComplete 0 is enough) posts the completion:
//     deterministic, for a ring driven from one locked thread.
func TestIoUringSubmitterThread(t *testing.T) {
	needIoUring(t)
	t.Run("busy", func(t *testing.T) {
		r := newRing(t, 8, nil)
		efd := newEventfd(t)
		armed := make(chan struct{})
		var stop atomic.Bool
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			s := r.GetSqe()
			s.PrepPollAdd(efd, POLLIN, IORING_POLL_ADD_MULTI)
			s.UserData = 6
			r.Submit()
			close(armed)
			for deadline := time.Now().Add(5 * time.Second); !stop.Load() && time.Now().Before(deadline); {
			}
		}()
		defer stop.Store(true)
		<-armed
		var worst time.Duration
		for range 5 {
			Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
			start := time.Now()
			for r.CqReady() == 0 { // no system call here: only the submitter can post
				if time.Since(start) > 5*time.Second {
					t.Fatal("completion not posted within 5s while its submitter thread spins")
				}
			}
			worst = max(worst, time.Since(start))
			if c := reap(t, r, 1)[0]; c.UserData != 6 || !c.More() {
				t.Fatalf("completion %+v", c)
			}
			var b [8]byte
			Read(efd, b[:])
		}
		t.Logf("completion visible up to %v after the write, while the submitter thread spins in user space", worst)
	})
	t.Run("defer taskrun", func(t *testing.T) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		r := newRing(t, 8, &IoUringParams{Flags: IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG})
		efd := newEventfd(t)
		s := getSqe(t, r)
		s.PrepPollAdd(efd, POLLIN, IORING_POLL_ADD_MULTI)
		s.UserData = 5
		submit(t, r, 1)
		for i := range 3 {
			wrote := make(chan struct{})
			go func() { // from another thread, as a peer would
				Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
				close(wrote)
			}()
			<-wrote
			if r.CqReady() != 0 || !r.TaskrunPending() {
				t.Fatalf("write %d: ready %d, SQ flags %#x; want nothing posted and IORING_SQ_TASKRUN", i, r.CqReady(), r.SqFlags())
			}
			if _, errno := IoUringEnterRaw(r.Fd(), 0, 0, IORING_ENTER_GETEVENTS, nil, 0); errno != 0 {
				t.Fatal(errno)
			}
			c := r.PeekCqe()
			if c == nil || c.UserData != 5 || !c.More() || r.TaskrunPending() {
				t.Fatalf("write %d after GETEVENTS: %+v, SQ flags %#x", i, c, r.SqFlags())
			}
			r.CqAdvance(1)
			var b [8]byte
			Read(efd, b[:])
		}
	})
	t.Run("sleeping", func(t *testing.T) {
		r := newRing(t, 8, nil)
		efd := newEventfd(t)
		armed, release := make(chan struct{}), make(chan struct{})
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			s := r.GetSqe()
			s.PrepPollAdd(efd, POLLIN, IORING_POLL_ADD_MULTI)
			s.UserData = 7
			r.Submit()
			close(armed)
			<-release // this thread now sleeps in futex, locked to this goroutine
		}()
		defer close(release)
		<-armed
		time.Sleep(20 * time.Millisecond)
		Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		if c := reap(t, r, 1)[0]; c.UserData != 7 || c.Res&POLLIN == 0 || !c.More() {
			t.Fatalf("completion %+v", c)
		}
	})
	t.Run("exited", func(t *testing.T) {
		r := newRing(t, 8, nil)
		efd := newEventfd(t)
		// A goroutine that ends locked ends its thread, except on the main
		// thread, which the runtime wedges instead (runtime.mexit): a
		// goroutine that lands there keeps it, locked, until the end, and
		// the next try lands elsewhere.
		holdMain := make(chan struct{})
		defer close(holdMain)
		tid := 0
		for attempt := 0; attempt < 20 && tid == 0; attempt++ {
			armed := make(chan int)
			go func() {
				runtime.LockOSThread()
				if unix.Gettid() == unix.Getpid() {
					armed <- 0
					<-holdMain
					runtime.UnlockOSThread()
					return
				}
				s := r.GetSqe()
				s.PrepPollAdd(efd, POLLIN, IORING_POLL_ADD_MULTI)
				s.UserData = 8
				r.Submit()
				armed <- unix.Gettid()
			}() // returns locked: the thread exits
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
				t.Fatalf("thread %d still alive 5s after its locked goroutine ended", tid)
			}
		}
		Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		if c := reap(t, r, 1)[0]; c.UserData != 8 || c.Res != -int32(syscall.ECANCELED) || c.More() {
			t.Fatalf("poll of an exited submitter: %+v, want -ECANCELED without F_MORE", c)
		}
	})
	t.Run("single issuer", func(t *testing.T) {
		runtime.LockOSThread() // so that the ring's creator is this thread
		defer runtime.UnlockOSThread()
		for _, flags := range []uint32{IORING_SETUP_SINGLE_ISSUER, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN} {
			r := newRing(t, 8, &IoUringParams{Flags: flags})
			res := make(chan [2]syscall.Errno)
			go func() {
				runtime.LockOSThread() // another thread: this one is taken
				defer runtime.UnlockOSThread()
				s := r.GetSqe()
				s.PrepNop()
				_, e1 := r.Submit()
				_, e2 := IoUringEnterRaw(r.Fd(), 0, 0, IORING_ENTER_GETEVENTS, nil, 0)
				res <- [2]syscall.Errno{e1, e2}
			}()
			e := <-res
			wantWait := syscall.Errno(0)
			if flags&IORING_SETUP_DEFER_TASKRUN != 0 {
				wantWait = syscall.EEXIST
			}
			if e[0] != syscall.EEXIST || e[1] != wantWait {
				t.Fatalf("flags %#x from another thread: submit %v, getevents %v; want EEXIST, %v", flags, e[0], e[1], wantWait)
			}
			submit(t, r, 1) // the creating thread may
			reap(t, r, 1)
		}
	})
}

// TestIoUringSendRecv sends and receives through the ring on a socketpair.
func TestIoUringSendRecv(t *testing.T) {
	r := newRing(t, 8, nil)
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[0])
	defer unix.Close(sp[1])
	in := make([]byte, 64)
	s := getSqe(t, r)
	s.PrepRecv(sp[1], in, 0) // armed before the data exists
	s.UserData = 1
	submit(t, r, 1)
	noMore(t, r)
	out := []byte("through the ring")
	s = getSqe(t, r)
	s.PrepSend(sp[0], out, 0)
	s.UserData = 2
	submit(t, r, 1)
	got := map[uint64]int32{}
	for _, c := range reap(t, r, 2) {
		got[c.UserData] = c.Res
	}
	if got[1] != int32(len(out)) || got[2] != int32(len(out)) || string(in[:len(out)]) != string(out) {
		t.Fatalf("send %d, recv %d %q", got[2], got[1], in[:max(got[1], 0)])
	}
	s = getSqe(t, r)
	s.PrepSend(-1, out, 0)
	s.UserData = 3
	submit(t, r, 1)
	if c := reap(t, r, 1)[0]; c.Res != -int32(syscall.EBADF) {
		t.Fatalf("send on -1: %+v", c)
	}
	s = getSqe(t, r)
	s.PrepSend(sp[0], nil, 0)
	if s.Addr != 0 || s.Len != 0 {
		t.Fatalf("empty send: addr %#x len %d", s.Addr, s.Len)
	}
	s.UserData = 4
	submit(t, r, 1)
	if c := reap(t, r, 1)[0]; c.Res != 0 {
		t.Fatalf("empty send: %+v", c)
	}
}

func TestIoUringAllocs(t *testing.T) {
	r := newRing(t, 64, nil)
	efd := newEventfd(t)
	var ts Timespec
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	s := getSqe(t, r)
	s.PrepPollAdd(efd, POLLIN, IORING_POLL_ADD_MULTI)
	s.UserData = 1
	submit(t, r, 1)
	var sum uint64
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	cases := []struct {
		name string
		f    func()
	}{
		{"GetSqe+PrepNop+FlushSq+IoUringEnterRaw submit", func() {
			for range 8 {
				s := r.GetSqe()
				s.PrepNop()
				s.UserData = 2
			}
			IoUringEnterRaw(r.Fd(), r.FlushSq(), 0, 0, nil, 0)
		}},
		{"CqReady+CqeAt+PeekCqe+CqAdvance", func() {
			n := r.CqReady()
			for i := range n {
				sum += r.CqeAt(i).UserData
			}
			if c := r.PeekCqe(); c != nil {
				sum += uint64(c.Flags)
			}
			r.CqAdvance(n)
		}},
		{"Write eventfd + IoUringEnterTimeout GETEVENTS", func() {
			Write(efd, one)
			IoUringEnterTimeout(r.Fd(), 0, 1, IORING_ENTER_GETEVENTS, &ts)
			r.CqAdvance(r.CqReady())
		}},
		{"IoUringEnter EXT_ARG + IoUringEnterRaw GETEVENTS min 0", func() {
			arg := IoUringGeteventsArg{}
			IoUringEnter(r.Fd(), 0, 0, IORING_ENTER_GETEVENTS|IORING_ENTER_EXT_ARG, unsafe.Pointer(&arg), SizeofIoUringGeteventsArg)
			IoUringEnterRaw(r.Fd(), 0, 0, IORING_ENTER_GETEVENTS, nil, 0)
		}},
		{"SubmitAndWait + flags", func() {
			s := r.GetSqe()
			s.PrepNop()
			r.SubmitAndWait(1, &ts)
			sum += uint64(r.SqFlags()) + uint64(r.CqOverflow()) + uint64(r.SqDropped())
			r.CqAdvance(r.CqReady())
		}},
		{"PrepSend of a heap buffer", func() {
			s := r.GetSqe()
			s.PrepSend(-1, one, 0)
			s.PrepPollUpdate(1, 2, POLLIN, IORING_POLL_UPDATE_EVENTS)
			s.PrepNop()
			r.Submit()
			r.CqAdvance(r.CqReady())
		}},
	}
	for _, c := range cases {
		c.f()
		if n := testing.AllocsPerRun(200, c.f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", c.name, n)
		}
	}
}

// TestIoUringStubErrors runs everywhere, qemu-user included, so that every
// stub's error path executes on both architectures: natively the kernel
// answers EBADF, under qemu-user the emulator answers ENOSYS.
func TestIoUringStubErrors(t *testing.T) {
	var p IoUringParams
	calls := []struct {
		name string
		call func() (int, syscall.Errno)
		want syscall.Errno
	}{
		{"IoUringEnterRaw(-1)", func() (int, syscall.Errno) { return IoUringEnterRaw(-1, 1, 0, 0, nil, 0) }, syscall.EBADF},
		{"IoUringEnter(-1)", func() (int, syscall.Errno) { return IoUringEnter(-1, 0, 1, IORING_ENTER_GETEVENTS, nil, 0) }, syscall.EBADF},
		{"IoUringEnterTimeout(-1)", func() (int, syscall.Errno) { return IoUringEnterTimeout(-1, 0, 1, IORING_ENTER_GETEVENTS, nil) }, syscall.EBADF},
		{"IoUringRegister(closed fd)", func() (int, syscall.Errno) { return IoUringRegister(1<<30, IORING_REGISTER_PROBE, nil, 0) }, syscall.EBADF},
		{"IoUringSetup(0)", func() (int, syscall.Errno) { return IoUringSetup(0, &p) }, syscall.EINVAL},
	}
	for _, c := range calls {
		n, errno := c.call()
		if n != -1 || (errno != c.want && errno != syscall.ENOSYS) {
			t.Errorf("%s = %d, %v; want -1, %v (or ENOSYS under an emulator)", c.name, n, errno, c.want)
		}
	}
}
