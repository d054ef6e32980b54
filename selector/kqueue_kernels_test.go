package selector

// The kqueue backend's decisions, tested on any OS (Linux included) for
// every row of kqKernels, through the functions the backend calls.

import (
	"errors"
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/rawsys"
)

var kqTables = []*rawsys.KqConsts{&rawsys.KqDarwin, &rawsys.KqFreeBSD, &rawsys.KqNetBSD, &rawsys.KqOpenBSD, &rawsys.KqDragonFly}

// TestKqKernelTable: every kqueue OS has a row, and the decisions the
// backend derives from it are the ones the kernels' sources call for.
func TestKqKernelTable(t *testing.T) {
	if len(kqKernels) != len(kqTables) {
		t.Fatalf("%d rows for %d kqueue OSes", len(kqKernels), len(kqTables))
	}
	for _, c := range kqTables {
		k := kqKernelFor(c.OS)
		if k == nil {
			t.Fatalf("no kqKernels row for %s", c.OS)
		}
		if k.receipts == "" || k.userFilter == "" {
			t.Errorf("%s: receipts and userFilter must name a release", c.OS)
		}
		if k.maxTimeoutSec != 0 && int64(kqMaxWait/time.Second) >= k.maxTimeoutSec {
			t.Errorf("%s: one kevent wait of %v exceeds the kernel's %d s", c.OS, kqMaxWait, k.maxTimeoutSec)
		}
		wantEPIPE := syscall.Errno(0)
		if c.OS == "darwin" {
			wantEPIPE = syscall.EPIPE
		}
		if got := kqTolerated(k); got != wantEPIPE {
			t.Errorf("%s: Register ignores errno %d, want %d (EPIPE only where the filter is registered anyway)", c.OS, got, wantEPIPE)
		}
		for _, tc := range []struct {
			in   Interest
			want bool // supported
		}{
			{Readable, true}, {Writable | Readable, true}, {Priority, false},
			{AIO, c.OS == "freebsd" || c.OS == "dragonfly"},
			{LIO, c.OS == "freebsd"},
		} {
			err := kqInterestErr(k, c, tc.in)
			if (err == nil) != tc.want {
				t.Errorf("%s: Register(%v) = %v, want supported=%t", c.OS, tc.in, err, tc.want)
			}
			if err != nil && !errors.Is(err, ErrUnsupportedInterest) {
				t.Errorf("%s: %v: %v", c.OS, tc.in, err)
			}
		}
		if got := kqDeregisterAsksFd(k, int64(syscall.ENOENT), int64(syscall.ENOENT)); got != (c.OS == "darwin") {
			t.Errorf("%s: Deregister asks the descriptor table: %t", c.OS, got)
		}
		if kqDeregisterAsksFd(k, 0, int64(syscall.ENOENT)) {
			t.Errorf("%s: Deregister asks the descriptor table although a filter was deleted", c.OS)
		}
		if k.kqueueCloexec == "" && (c.OS == "freebsd" || c.OS == "netbsd") {
			t.Errorf("%s has an atomic close-on-exec kqueue call", c.OS)
		}
		if k.pipe2 == (c.OS == "darwin") {
			t.Errorf("%s: pipe2 %t", c.OS, k.pipe2)
		}
		if c.EVFILT_USER == rawsys.NoFilter || c.EVFILT_TIMER == rawsys.NoFilter || c.NOTE_TRIGGER == 0 {
			t.Errorf("%s: EVFILT_USER, EVFILT_TIMER and NOTE_TRIGGER are needed", c.OS)
		}
	}
}

// knoteModel is an EVFILT_USER knote as one kernel handles it, after the
// row's udataOnModify and triggerOnAdd.
type knoteModel struct {
	exists, triggered, clear bool
	udata                    uint64
}

// apply runs one change through the model and returns its errno.
func (m *knoteModel) apply(k *kqKernel, c *rawsys.KqConsts, ch kqChange) syscall.Errno {
	switch {
	case ch.filter != c.EVFILT_USER:
		return syscall.EINVAL
	case ch.flags&c.EV_DELETE != 0:
		if !m.exists {
			return syscall.ENOENT
		}
		*m = knoteModel{}
	case !m.exists && ch.flags&c.EV_ADD == 0:
		return syscall.ENOENT
	case !m.exists:
		*m = knoteModel{exists: true, udata: ch.udata, clear: ch.flags&c.EV_CLEAR != 0}
		m.triggered = k.triggerOnAdd && ch.fflags&c.NOTE_TRIGGER != 0
	default:
		if k.udataOnModify {
			m.udata = ch.udata
		}
		if ch.fflags&c.NOTE_TRIGGER != 0 {
			m.triggered = true
		}
	}
	return 0
}

// scan reports the knote as a Select would, and clears it if EV_CLEAR.
func (m *knoteModel) scan() (uint64, bool) {
	if !m.exists || !m.triggered {
		return 0, false
	}
	if m.clear {
		m.triggered = false
	}
	return m.udata, true
}

// TestKqKernelModel runs the backend's EVFILT_USER change sequences
// (kqWakerAdd, kqWakerTrigger, kqCloseWakeUser) through a model of each
// kernel: a Waker's every event carries its token, and a Close wake-up is
// triggered. The changes the backend made before issue 14 are run too, to
// show that the model fails them where the kernels did.
func TestKqKernelModel(t *testing.T) {
	const tok = 0xfeed
	for _, c := range kqTables {
		k := kqKernelFor(c.OS)
		var w knoteModel
		if e := w.apply(k, c, kqWakerAdd(c, 7, tok)); e != 0 {
			t.Fatalf("%s: add: errno %d", c.OS, e)
		}
		for i := range 3 {
			if e := w.apply(k, c, kqWakerTrigger(c, 7, tok)); e != 0 {
				t.Fatalf("%s: wake %d: errno %d", c.OS, i, e)
			}
			if u, ok := w.scan(); !ok || u != tok {
				t.Errorf("%s: wake %d reported (%#x, %t), want token %#x", c.OS, i, u, ok, tok)
			}
			if _, ok := w.scan(); ok {
				t.Errorf("%s: EV_CLEAR: wake %d reported twice", c.OS, i)
			}
		}
		var cw knoteModel
		for _, ch := range kqCloseWakeUser(c, kqCloseIdentBase|1) {
			cw.apply(k, c, ch)
		}
		for i := range 3 { // level-triggered: every waiter sees it
			if _, ok := cw.scan(); !ok {
				t.Errorf("%s: Close wake-up not reported to waiter %d", c.OS, i)
			}
		}

		// Before: Wake sent udata 0, Close one EV_ADD|NOTE_TRIGGER.
		var old knoteModel
		old.apply(k, c, kqWakerAdd(c, 7, tok))
		old.apply(k, c, kqChange{ident: 7, filter: c.EVFILT_USER, flags: c.EV_RECEIPT, fflags: c.NOTE_TRIGGER})
		if u, _ := old.scan(); (u == tok) != !k.udataOnModify {
			t.Errorf("%s: model: the old Wake reported token %#x", c.OS, u)
		}
		var oldClose knoteModel
		oldClose.apply(k, c, kqChange{ident: kqCloseIdentBase, filter: c.EVFILT_USER, flags: c.EV_ADD | c.EV_RECEIPT, fflags: c.NOTE_TRIGGER})
		if _, ok := oldClose.scan(); ok != k.triggerOnAdd {
			t.Errorf("%s: model: the old Close wake-up triggered: %t", c.OS, ok)
		}
	}
}

func TestKqTimespec(t *testing.T) {
	for d, want := range map[time.Duration]rawsys.Timespec{
		-1:                          {},
		0:                           {},
		1:                           {Nsec: 1},
		1500 * time.Millisecond:     {Sec: 1, Nsec: 5e8},
		kqMaxWait:                   {Sec: 1e6},
		kqMaxWait + 1:               {Sec: 1e6},
		math.MaxInt64:               {Sec: 1e6},
		200000000 * time.Second:     {Sec: 1e6}, // darwin's itimerfix refuses tv_sec > 1e8
		999999999 * time.Nanosecond: {Nsec: 999999999},
	} {
		if got := kqTimespec(d); got != want {
			t.Errorf("kqTimespec(%v) = %+v, want %+v", d, got, want)
		}
	}
}

// fakeKevent is a kevent for kqWaitLoop on a fake clock: each call takes
// its timespec (or blocks "forever" until the scripted result) and
// returns the next scripted result.
type fakeKevent struct {
	now   int64
	calls []string
	res   []fakeResult
}

type fakeResult struct {
	n        int
	errno    syscall.Errno
	done     bool
	early    time.Duration // returns this long before the timespec ends
	interval time.Duration // how long a nil (blocking) wait takes
}

func (f *fakeKevent) wait(ts *rawsys.Timespec) (int, syscall.Errno, bool) {
	r := fakeResult{}
	if len(f.res) > 0 {
		r, f.res = f.res[0], f.res[1:]
	}
	if ts == nil {
		f.calls = append(f.calls, "block")
		f.now += int64(r.interval)
	} else {
		d := time.Duration(ts.Sec)*time.Second + time.Duration(ts.Nsec)
		if ts.Sec > 1e6 || ts.Sec < 0 {
			return 0, syscall.EINVAL, true // as darwin's itimerfix (with margin)
		}
		f.calls = append(f.calls, fmt.Sprint(d))
		if r.n == 0 && r.errno == 0 {
			f.now += int64(d - r.early)
		} else {
			f.now += int64(r.interval)
		}
	}
	if len(f.calls) > 100 {
		return 0, syscall.E2BIG, true
	}
	return r.n, r.errno, r.done || r.n > 0
}

func TestKqWaitLoop(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		res     []fakeResult
		n       int
		errno   syscall.Errno
		calls   string
	}{
		{"poll, nothing", 0, nil, 0, 0, "[0s]"},
		{"poll, EINTR retried", 0, []fakeResult{{errno: syscall.EINTR}}, 0, 0, "[0s 0s]"},
		{"poll, event", 0, []fakeResult{{n: 2}}, 2, 0, "[0s]"},
		{"poll, only Close wake-ups", 0, []fakeResult{{}}, 0, 0, "[0s]"},
		{"timeout, nothing", 30 * ms, nil, 0, 0, "[30ms]"},
		{"timeout, event", 30 * ms, []fakeResult{{n: 1, interval: 5 * ms}}, 1, 0, "[30ms]"},
		{"timeout, EINTR waits for the rest", 30 * ms, []fakeResult{{errno: syscall.EINTR, interval: 10 * ms}}, 0, 0, "[30ms 20ms]"},
		{"timeout, EINTR at the end polls once", 30 * ms, []fakeResult{{errno: syscall.EINTR, interval: 30 * ms}}, 0, 0, "[30ms 0s]"},
		{"timeout, early return waits again", 30 * ms, []fakeResult{{early: 10 * ms}}, 0, 0, "[30ms 10ms]"},
		{"timeout, error", 30 * ms, []fakeResult{{errno: syscall.EBADF, done: true}}, 0, syscall.EBADF, "[30ms]"},
		{"huge timeout is clamped and continued", math.MaxInt64, []fakeResult{{}, {}, {n: 1, interval: ms}}, 1, 0, "[277h46m40s 277h46m40s 277h46m40s]"},
		{"clamped timeout runs to its deadline", kqMaxWait + 5*time.Second, nil, 0, 0, "[277h46m40s 5s]"},
		{"block, EINTR retried", -1, []fakeResult{{errno: syscall.EINTR}, {n: 3}}, 3, 0, "[block block]"},
		{"block, only Close wake-ups: wait again", -1, []fakeResult{{}, {n: 1}}, 1, 0, "[block block]"},
		{"block, closed", -1, []fakeResult{{done: true}}, 0, 0, "[block]"},
		{"MinInt64 blocks", math.MinInt64, []fakeResult{{n: 1}}, 1, 0, "[block]"},
	} {
		f := &fakeKevent{now: 1000, res: tc.res}
		deadline := f.now + int64(tc.timeout)
		if tc.timeout > math.MaxInt64-time.Duration(f.now) {
			deadline = math.MaxInt64
		}
		n, errno := kqWaitLoop(tc.timeout, deadline, func() int64 { return f.now }, f.wait)
		if n != tc.n || errno != tc.errno || fmt.Sprint(f.calls) != tc.calls {
			t.Errorf("%s: (%d, %v) with waits %v, want (%d, %v) with %s", tc.name, n, errno, f.calls, tc.n, tc.errno, tc.calls)
		}
	}
}

func TestKqCheckReceipts(t *testing.T) {
	for _, c := range kqTables {
		recs := []kqRec{{c.EVFILT_WRITE, c.EV_ERROR, 0}, {c.EVFILT_READ, c.EV_ERROR, 0}}
		if ok, err := kqCheckReceipts(c, "register", 5, recs, 2, 0, 0); err != nil || ok != 3 {
			t.Errorf("%s: two good receipts: %b %v", c.OS, ok, err)
		}
		// Fewer records than changes (NetBSD 9 writes none).
		if _, err := kqCheckReceipts(c, "register", 5, recs, 0, 0, 0); !errors.Is(err, errNoReceipts) || !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: no receipts: %v", c.OS, err)
		}
		// A ready event in place of a receipt (no EV_ERROR).
		recs[1] = kqRec{c.EVFILT_READ, c.EV_CLEAR | c.EV_EOF, 17}
		if ok, err := kqCheckReceipts(c, "register", 5, recs, 2, 0, 0); !errors.Is(err, errNoReceipts) || ok != 1 {
			t.Errorf("%s: event instead of receipt: %b %v", c.OS, ok, err)
		}
		// The second change failed: the error names the filter and fd.
		recs[1] = kqRec{c.EVFILT_READ, c.EV_ERROR, int64(syscall.EBADF)}
		ok, err := kqCheckReceipts(c, "register", 5, recs, 2, 0, 0)
		var op *OpError
		if !errors.As(err, &op) || op.Op != "register EVFILT_READ" || op.Fd != 5 || !errors.Is(err, syscall.EBADF) || ok != 1 {
			t.Errorf("%s: failed read filter: %b %v", c.OS, ok, err)
		}
		// An ignored errno counts as success.
		recs = []kqRec{{c.EVFILT_WRITE, c.EV_ERROR, int64(syscall.EPIPE)}, {c.EVFILT_READ, c.EV_ERROR, int64(syscall.ENOENT)}}
		if ok, err := kqCheckReceipts(c, "reregister", 5, recs, 2, syscall.ENOENT, syscall.EPIPE); err != nil || ok != 3 {
			t.Errorf("%s: ignored errnos: %b %v", c.OS, ok, err)
		}
		if ok, err := kqCheckReceipts(c, "reregister", 5, recs, 2, syscall.ENOENT, 0); !errors.Is(err, syscall.EPIPE) || ok != 2 {
			t.Errorf("%s: EPIPE not ignored: %b %v", c.OS, ok, err)
		}
		// The probe: the changes it makes, and what each kind of kernel
		// answers.
		p := kqProbeChanges(c)
		if p[0].filter != c.EVFILT_TIMER || p[0].flags != c.EV_ADD|c.EV_DISABLE|c.EV_RECEIPT || p[0].data <= 0 ||
			p[1].filter != c.EVFILT_TIMER || p[1].flags != c.EV_DELETE|c.EV_RECEIPT || p[0].ident != kqProbeIdent || p[1].ident != kqProbeIdent {
			t.Errorf("%s: probe changes %+v", c.OS, p)
		}
		recs = []kqRec{{p[0].filter, p[0].flags, p[0].data}, {p[1].filter, p[1].flags, 0}} // as submitted
		if _, err := kqCheckReceipts(c, "new", -1, recs, 0, 0, 0); !errors.Is(err, errNoReceipts) {
			t.Errorf("%s: a kernel without EV_RECEIPT passed the probe: %v", c.OS, err)
		}
		recs = []kqRec{{c.EVFILT_TIMER, c.EV_ERROR, 0}, {c.EVFILT_TIMER, c.EV_ERROR, 0}}
		if _, err := kqCheckReceipts(c, "new", -1, recs, 2, 0, 0); err != nil {
			t.Errorf("%s: a kernel with EV_RECEIPT failed the probe: %v", c.OS, err)
		}
	}
}

// dropCases checks kqDropCloseWakes on records in layout R: Close
// wake-ups are dropped, and nothing else.
func dropCases[R any, P interface {
	*R
	kqRecord
	Set(ident uint64, filter int32, flags, fflags uint32, data int64, udata uint64)
}](t *testing.T, c *rawsys.KqConsts) {
	evs := make([]R, 5)
	P(&evs[0]).Set(3, c.EVFILT_READ, c.EV_CLEAR, 0, 1, 10)
	P(&evs[1]).Set(kqCloseIdentBase|1, c.EVFILT_USER, 0, c.NOTE_TRIGGER, 0, 0)
	P(&evs[2]).Set(9, c.EVFILT_USER, c.EV_CLEAR, c.NOTE_TRIGGER, 0, 11) // a Waker
	P(&evs[3]).Set(kqCloseIdentBase|2, c.EVFILT_TIMER, c.EV_CLEAR, 0, 1, 0)
	P(&evs[4]).Set(kqCloseIdentBase|3, c.EVFILT_WRITE, c.EV_CLEAR, 0, 1, 12) // fd filters are never wake-ups
	if n := kqDropCloseWakes[R, P](c, evs, 5); n != 3 || P(&evs[0]).Ident() != 3 || P(&evs[1]).Ident() != 9 || P(&evs[2]).Filter() != c.EVFILT_WRITE {
		t.Errorf("%s: kqDropCloseWakes kept %d", c.OS, n)
	}
}

func TestKqDropCloseWakes(t *testing.T) {
	dropCases[rawsys.Kevent32](t, &rawsys.KqDarwin)
	dropCases[rawsys.Kevent32](t, &rawsys.KqOpenBSD)
	dropCases[rawsys.Kevent32](t, &rawsys.KqDragonFly)
	dropCases[rawsys.KeventFreeBSD](t, &rawsys.KqFreeBSD)
	dropCases[rawsys.KeventNetBSD](t, &rawsys.KqNetBSD)
}

// TestKqCloseWakeIdents: no Waker identifier reaches the Close wake-up
// range, so no Waker event is ever dropped.
func TestKqCloseWakeIdents(t *testing.T) {
	for _, c := range kqTables {
		if kqIsCloseWake(c, c.EVFILT_USER, kqCloseIdentBase-1) || kqIsCloseWake(c, c.EVFILT_USER, 1) {
			t.Errorf("%s: a Waker identifier counts as a Close wake-up", c.OS)
		}
		if !kqIsCloseWake(c, c.EVFILT_USER, kqCloseIdentBase) || !kqIsCloseWake(c, c.EVFILT_TIMER, math.MaxUint64) {
			t.Errorf("%s: Close wake-up not recognised", c.OS)
		}
		if kqIsCloseWake(c, c.EVFILT_READ, kqCloseIdentBase) {
			t.Errorf("%s: EVFILT_READ counts as a Close wake-up", c.OS)
		}
	}
}
