package selector

// Kernel behaviour as data: where the kqueue kernels differ in a way the
// backend must handle, one row per OS says what that kernel does and
// where its source says so. The kqueue backend takes its decisions from
// the row of the OS it runs on (kqThis in kqueue.go) through the kq*
// functions below, and this file compiles on every OS, so those decisions
// are tested for every row on Linux (kqueue_kernels_test.go), including
// against a small model of each kernel's EVFILT_USER handling.

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/rawpoll/rawpoll/rawsys"
)

// kqKernel is one kqueue kernel's behaviour where the kernels differ.
type kqKernel struct {
	os string
	// udataOnModify: a change to an existing knote (an EVFILT_USER
	// trigger, an EV_ADD of a registered filter) replaces its udata with
	// the change's, so every change must carry the token.
	udataOnModify bool
	// triggerOnAdd: NOTE_TRIGGER in the EV_ADD that creates an EVFILT_USER
	// knote triggers it. Where false the knote is born untriggered and
	// must be triggered by a second change.
	triggerOnAdd bool
	// receipts names the first release whose kevent answers EV_RECEIPT
	// with one EV_ERROR record per change, and userFilter the first with
	// EVFILT_USER (refused with EINVAL before). Both are for the reader:
	// the backend finds out at run time (the probe in New, the EINVAL
	// fallback), so a release marked "?" was not checked against its
	// sources here and decides nothing.
	receipts   string
	userFilter string
	// deadPipeWriteOK: EV_ADD of EVFILT_WRITE on a pipe whose reader is
	// gone answers EPIPE yet registers the filter, which then reports
	// EV_EOF. Where false the error means nothing was registered.
	deadPipeWriteOK bool
	// aio: EVFILT_AIO completions can be delivered (an aio request with
	// SIGEV_KEVENT names the kqueue).
	aio bool
	// deleteClosedFd is what EV_DELETE answers for a descriptor that is
	// not open.
	deleteClosedFd syscall.Errno
	// maxTimeoutSec is the largest tv_sec kevent accepts (0: no limit).
	maxTimeoutSec int64
	// kqueueCloexec names the call that creates a close-on-exec kqueue
	// atomically, or "" where there is none.
	kqueueCloexec string
	// pipe2 is whether pipe2(O_CLOEXEC|O_NONBLOCK) exists.
	pipe2 bool
}

// kqKernels, one row per kqueue OS. Sources: xnu bsd/kern/kern_event.c and
// bsd/sys/event.h; FreeBSD, NetBSD, OpenBSD and DragonFly sys/kern/
// kern_event.c, sys/kern/sys_pipe.c and sys/sys/event.h; mio
// src/sys/unix/selector/kqueue.rs.
var kqKernels = [...]kqKernel{
	{
		os: "darwin",
		// kevent_register: an existing knote gets kn->kn_kevent.udata =
		// kev->udata before f_touch; filt_usertouch/filt_userprocess
		// return the knote's kevent.
		udataOnModify: true,
		// filt_userattach tests kn->kn_sfflags & NOTE_TRIGGER, which the
		// EV_ADD path keeps.
		triggerOnAdd: true,
		receipts:     "macOS 10.5?",
		userFilter:   "macOS 10.6?",
		// EPIPE from the write filter of a pipe whose reader is gone is a
		// receipt for a filter that still delivers events
		// (tokio-rs/mio#582; mio tolerates it on Apple targets only).
		deadPipeWriteOK: true,
		// sysfilt_ops[~EVFILT_AIO] is &bad_filtops and bsd/sys/signal.h
		// has no SIGEV_KEVENT: nothing can fire EVFILT_AIO.
		aio: false,
		// EV_DELETE only looks the knote up (knote_fdfind) and answers
		// ENOENT, also for a descriptor that is not open.
		deleteClosedFd: syscall.ENOENT,
		// itimerfix (bsd/kern/kern_time.c) refuses tv_sec > 100000000 with
		// EINVAL; the Go runtime clamps to 1e6 s (netpoll_kqueue.go).
		maxTimeoutSec: 100000000,
		kqueueCloexec: "",    // no kqueue1 on darwin
		pipe2:         false, // no pipe2 on darwin
	},
	{
		os: "freebsd",
		// kqueue_register: kn->kn_kevent.udata = kev->udata on an existing
		// knote, then f_touch; filt_usertouch(EVENT_PROCESS) copies
		// kn->kn_kevent out.
		udataOnModify: true,
		// kqueue_register's EV_ADD path clears kev->fflags (kn_sfflags
		// keeps them) before kn_kevent = *kev, and filt_userattach tests
		// kn->kn_fflags & NOTE_TRIGGER: born untriggered.
		triggerOnAdd: false,
		receipts:     "FreeBSD 8.0?",
		userFilter:   "FreeBSD 8.1?",
		// pipe_kqfilter (sys/kern/sys_pipe.c) returns EPIPE for
		// EVFILT_WRITE when the peer is not PIPE_ACTIVE, and the knote is
		// dropped (knote_drop after a failed f_attach).
		deadPipeWriteOK: false,
		aio:             true, // vfs_aio.c: SIGEV_KEVENT, filt_aioattach
		// kqueue_register: fget() of the ident fails first: EBADF.
		deleteClosedFd: syscall.EBADF,
		maxTimeoutSec:  0, // kqueue_scan: tv_sec > INT32_MAX waits forever
		kqueueCloexec:  "kqueuex (FreeBSD 13.3, 14.0)",
		pipe2:          true,
	},
	{
		os: "netbsd",
		// kqueue_register: kn->kn_kevent.udata = kev->udata on modify,
		// then filter_touch (NetBSD 10 kern_event.c).
		udataOnModify: true,
		// The EV_ADD path, taken from FreeBSD, clears kev->fflags before
		// the copy into kn_kevent; filt_userattach tests kn->kn_fflags.
		triggerOnAdd: false,
		// NetBSD 9 and older have no EV_RECEIPT: the change falls through
		// to a scan that writes ready events into the change buffer. Such
		// kernels are refused at New (kqProbeReceipts).
		receipts:   "NetBSD 10.0",
		userFilter: "NetBSD 10.0",
		// pipe_kqfilter refuses EVFILT_WRITE once the reader is gone (the
		// errno is reported as the kernel gives it).
		deadPipeWriteOK: false,
		aio:             false, // no EVFILT_AIO delivery
		deleteClosedFd:  syscall.EBADF,
		maxTimeoutSec:   0,
		kqueueCloexec:   "kqueue1 (NetBSD 6.0)",
		pipe2:           true,
	},
	{
		os: "openbsd",
		// knote_assign (sys/kern/kern_event.c) copies kev->udata on
		// every modify.
		udataOnModify: true,
		// filt_userattach is recent (event.h 1.74): not relied on.
		triggerOnAdd: false,
		receipts:     "OpenBSD 6.2?",
		userFilter:   "OpenBSD 7.8 (sys/sys/event.h 1.74, 2025-05)",
		// pipe_kqfilter: EPIPE when the other end is gone; nothing is
		// registered.
		deadPipeWriteOK: false,
		aio:             false, // no EVFILT_AIO delivery
		deleteClosedFd:  syscall.EBADF,
		maxTimeoutSec:   0,
		// kqueue1 is in libc since 7.8 only; a dynamic import of it would
		// stop the binary from loading on older releases.
		kqueueCloexec: "",
		pipe2:         true,
	},
	{
		os: "dragonfly",
		// kqueue_register does not copy udata into an existing knote, and
		// filt_usertouch leaves it: the token survives a trigger.
		udataOnModify: false,
		// filt_userattach tests kn->kn_sfflags & NOTE_TRIGGER.
		triggerOnAdd: true,
		receipts:     "DragonFly 4.0?",
		userFilter:   "DragonFly 2.10?",
		// pipe_kqfilter: EPIPE for EVFILT_WRITE without a reader, as on
		// FreeBSD; nothing is registered.
		deadPipeWriteOK: false,
		aio:             true,
		deleteClosedFd:  syscall.EBADF,
		maxTimeoutSec:   0,
		kqueueCloexec:   "", // no kqueue1 (sys/kern/syscalls.master)
		pipe2:           true,
	},
}

// kqKernelFor returns the row for an OS, or nil.
func kqKernelFor(os string) *kqKernel {
	for i := range kqKernels {
		if kqKernels[i].os == os {
			return &kqKernels[i]
		}
	}
	return nil
}

// kqInterestErr is the check Register and Reregister make: Priority never
// (kqueue has no priority filter), AIO only where the kernel can deliver
// aio completions, LIO only where the OS has the filter.
func kqInterestErr(k *kqKernel, c *rawsys.KqConsts, in Interest) error {
	if err := checkDefined(in); err != nil {
		return err
	}
	if in&Priority != 0 ||
		in&AIO != 0 && (!k.aio || c.EVFILT_AIO == rawsys.NoFilter) ||
		in&LIO != 0 && c.EVFILT_LIO == rawsys.NoFilter {
		return ErrUnsupportedInterest
	}
	return nil
}

// kqTolerated is the errno a Register or Reregister of fd ignores, beyond
// the ENOENT of a Reregister's deletes: EPIPE where it is only a receipt
// for a filter that works (darwin), nothing elsewhere, where it means the
// write side is closed and nothing was registered (returned, so that the
// caller hears of it, as epoll reports EPOLLERR).
func kqTolerated(k *kqKernel) syscall.Errno {
	if k.deadPipeWriteOK {
		return syscall.EPIPE
	}
	return 0
}

// kqDeregisterAsksFd reports whether Deregister must ask the descriptor
// table whether fd is open: where EV_DELETE answers ENOENT for a closed
// descriptor (darwin) and both deletes did, so that a closed fd gives
// EBADF there too.
func kqDeregisterAsksFd(k *kqKernel, writeErr, readErr int64) bool {
	return k.deleteClosedFd == syscall.ENOENT && writeErr == int64(syscall.ENOENT) && readErr == int64(syscall.ENOENT)
}

// kqMaxWait is the longest single kevent wait Select makes: 1e6 s, as the
// Go runtime's netpoll_kqueue.go, below darwin's 1e8 s limit (itimerfix).
// A longer timeout is waited out in several kevent calls.
const kqMaxWait = 1000000 * time.Second

// kqTimespec is the timespec of one kevent wait for d (>= 0), clamped to
// kqMaxWait.
func kqTimespec(d time.Duration) rawsys.Timespec {
	d = min(max(d, 0), kqMaxWait)
	return rawsys.Timespec{Sec: int64(d / time.Second), Nsec: int64(d % time.Second)}
}

// kqWaitFunc is one kevent wait: ts nil blocks, a zero ts polls. It returns
// the events left for the caller, and done when Select must return what
// it has (events, or an error other than EINTR, or the closed state).
type kqWaitFunc func(ts *rawsys.Timespec) (n int, errno syscall.Errno, done bool)

// kqWaitLoop is Select's timeout logic, compiled everywhere so that it is
// tested on Linux with a fake clock: a negative timeout waits (ts nil)
// until an event; zero polls once, retrying EINTR; a positive timeout
// waits in kevent calls of at most kqMaxWait until deadline (now() +
// timeout, saturated, on the clock now reads). EINTR,
// a clamped wait that ended, and a wait whose only events were Close
// wake-ups of another handle all wait again for what remains; when
// nothing remains after an EINTR, one last poll picks up what arrived.
func kqWaitLoop(timeout time.Duration, deadline int64, now func() int64, wait kqWaitFunc) (int, syscall.Errno) {
	rem := max(timeout, 0)
	for {
		var ts *rawsys.Timespec
		var t rawsys.Timespec
		if timeout >= 0 {
			t = kqTimespec(rem)
			ts = &t
		}
		n, errno, done := wait(ts)
		if done || errno != 0 && errno != syscall.EINTR {
			return n, errno
		}
		if timeout < 0 {
			continue
		}
		if timeout > 0 {
			rem = time.Duration(deadline - now())
		}
		if rem <= 0 {
			if errno != syscall.EINTR {
				return 0, 0 // timed out (or polled) with nothing to report
			}
			rem = 0 // interrupted at the end: poll once more
		}
	}
}

// kqRecord is what the kqueue code reads from a kevent record, whatever
// the OS's layout (the rawsys views).
type kqRecord interface {
	Ident() uint64
	Filter() int32
	Flags() uint32
	Data() int64
}

// kqRec is a receipt as kqCheckReceipts reads it: the fields copied out of
// the record, so that no record's address is passed around (a record
// reached through an interface or a generic method escapes to the heap,
// and change lists live on the stack of calls that must not allocate).
type kqRec struct {
	filter int32
	flags  uint32
	data   int64
}

// kqCheckReceipts checks the records a change list submitted with
// EV_RECEIPT came back as: n must equal the number of changes and every
// record must carry EV_ERROR (data is the errno, 0 for success). A kernel
// without EV_RECEIPT (NetBSD before 10) returns fewer, or ready events in
// their place; that is an error, never a success. Errors ignore1 and
// ignore2 count as success. It returns the set of changes (bit i for
// recs[i]) that succeeded or were ignored, and the first failure.
func kqCheckReceipts(c *rawsys.KqConsts, op string, fd int, recs []kqRec, n int, ignore1, ignore2 syscall.Errno) (uint32, error) {
	if n != len(recs) {
		return 0, &OpError{Op: op, Fd: fd, Err: errNoReceipts}
	}
	var ok uint32
	var first error
	for i, r := range recs {
		if r.flags&c.EV_ERROR == 0 {
			if first == nil {
				first = &OpError{Op: op, Fd: fd, Err: errNoReceipts}
			}
			continue
		}
		e := syscall.Errno(r.data)
		if e == 0 || e == ignore1 || e == ignore2 {
			ok |= 1 << i
			continue
		}
		if first == nil {
			first = &OpError{Op: op + " " + kqFilterName(c, r.filter), Fd: fd, Err: e}
		}
	}
	return ok, first
}

// errNoReceipts is the error of a kevent that did not answer EV_RECEIPT
// with one EV_ERROR record per change.
var errNoReceipts = fmt.Errorf("kevent returned no EV_RECEIPT record per change (NetBSD before 10 is not supported): %w", errors.ErrUnsupported)

// kqChange is one change record's fields, as the kqueue code builds them
// (copied into the OS's record by kqueue.go's setChange).
type kqChange struct {
	ident         uint64
	filter        int32
	flags, fflags uint32
	data          int64
	udata         uint64
}

// kqProbeChanges are two changes that show whether kevent answers
// EV_RECEIPT, with no side effect on a new kqueue: add a disabled one-hour
// timer, then delete it, both with EV_RECEIPT. A kernel with receipts
// returns two records with EV_ERROR and data 0; one without returns
// nothing (the timer never fires, and is gone).
func kqProbeChanges(c *rawsys.KqConsts) [2]kqChange {
	return [2]kqChange{
		{ident: kqProbeIdent, filter: c.EVFILT_TIMER, flags: c.EV_ADD | c.EV_DISABLE | c.EV_RECEIPT, data: 3600 * 1000},
		{ident: kqProbeIdent, filter: c.EVFILT_TIMER, flags: c.EV_DELETE | c.EV_RECEIPT},
	}
}

// kqWakerAdd is the change that creates a Waker's EVFILT_USER knote:
// EV_CLEAR, so that each reported wake re-arms it, and the token.
func kqWakerAdd(c *rawsys.KqConsts, ident uint64, t Token) kqChange {
	return kqChange{ident: ident, filter: c.EVFILT_USER, flags: c.EV_ADD | c.EV_CLEAR | c.EV_RECEIPT, udata: uint64(t)}
}

// kqWakerTrigger is a Wake's change: NOTE_TRIGGER on the existing knote,
// carrying the token, because a kernel with udataOnModify replaces the
// knote's udata with the change's; without EV_ADD, so that it can never
// re-create a knote that Close deleted.
func kqWakerTrigger(c *rawsys.KqConsts, ident uint64, t Token) kqChange {
	return kqChange{ident: ident, filter: c.EVFILT_USER, flags: c.EV_RECEIPT, fflags: c.NOTE_TRIGGER, udata: uint64(t)}
}

// kqCloseWakeUser are the two changes of a Close wake-up on EVFILT_USER:
// add (level-triggered: no EV_CLEAR, so every waiter sees it), then
// trigger. One EV_ADD|NOTE_TRIGGER change would be born untriggered where
// triggerOnAdd is false (FreeBSD, NetBSD).
func kqCloseWakeUser(c *rawsys.KqConsts, ident uint64) [2]kqChange {
	return [2]kqChange{
		{ident: ident, filter: c.EVFILT_USER, flags: c.EV_ADD | c.EV_RECEIPT},
		{ident: ident, filter: c.EVFILT_USER, flags: c.EV_RECEIPT, fflags: c.NOTE_TRIGGER},
	}
}

// Identifier ranges. EVFILT_USER and EVFILT_TIMER identifiers are a
// namespace of their own, apart from descriptors. Wakers count up from 1
// and never reach kqCloseIdentBase (that would take 2^63 NewWakers);
// Close wake-ups and the probe live at and above it, so an event from
// them is known by its filter and identifier alone, which no registration
// can produce: Register only ever adds EVFILT_READ and EVFILT_WRITE.
const (
	kqCloseIdentBase = 1 << 63
	kqProbeIdent     = kqCloseIdentBase - 1
)

// kqIsCloseWake reports an event of a Close wake-up (see wakeBlocked).
func kqIsCloseWake(c *rawsys.KqConsts, filter int32, ident uint64) bool {
	return ident >= kqCloseIdentBase && filter != rawsys.NoFilter &&
		(filter == c.EVFILT_USER || filter == c.EVFILT_TIMER)
}

// kqDropCloseWakes removes Close wake-ups from recs[:n] and returns how
// many events remain.
func kqDropCloseWakes[R any, P interface {
	*R
	kqRecord
}](c *rawsys.KqConsts, recs []R, n int) int {
	j := 0
	for i := range recs[:n] {
		r := P(&recs[i])
		if kqIsCloseWake(c, r.Filter(), r.Ident()) {
			continue
		}
		recs[j] = recs[i]
		j++
	}
	return j
}
