// Package selector is mio's selector for Go: register file descriptors with
// a Token and an Interest, wait for readiness with Select into a reusable
// Events buffer, and read the tokens straight out of the records the kernel
// wrote.
//
// One API, one backend per platform: epoll on Linux, kqueue on darwin,
// FreeBSD, NetBSD (10+), OpenBSD and DragonFly, and poll(2) on Linux with
// -tags rawpoll_forcepoll; on Linux, io_uring on request (WithBackend,
// RAWPOLL_BACKEND). Selector.Backend says which one a Selector got.
//
// # The contract: edge-triggered, re-armed per direction
//
// Every backend is edge-triggered: an event says that a descriptor became
// ready, and the application must then read (or write) until the call
// returns EAGAIN. After that it calls WouldBlock with the direction that
// ran dry:
//
//   - WouldBlock(fd, Readable) after a read returned EAGAIN, or returned
//     less than asked on a stream socket (the next read would return
//     EAGAIN), unless an event reported IsReadClosed or IsError: then read
//     on to EOF, because that edge is not reported again. Remember it if
//     reading stops first (for a write that blocked): the writable event
//     that resumes it need not say so again (on kqueue it does not);
//   - WouldBlock(fd, Writable) after a write returned EAGAIN or wrote less
//     than asked; keep what was not written, and finish it on the next
//     writable event.
//
// When readiness is reported again differs between backends, which is why
// the rule exists. On epoll and kqueue the kernel reports a descriptor
// again whenever new readiness arrives (more data, space freed, a
// hang-up), whether or not the application drained it, and WouldBlock
// costs nothing. On poll, a direction that has been reported stays silent
// until WouldBlock re-arms it (or Reregister re-arms everything): a loop
// that stops reading without calling it hears nothing more, and one that
// calls it at every such point hears of every readiness, as on epoll
// (though not of every arrival: poll reports a direction once until it is
// re-armed, where epoll reports each new packet).
//
// An event may also be stale: true when the kernel recorded it, no longer
// when the loop gets to it. On io_uring a Writable completion posted
// before the loop filled the socket again is still reported, and the
// write it prompts returns EAGAIN; after a short read, a Readable edge
// already queued may find nothing to read. So a loop never trusts an event
// to make a call succeed: EAGAIN after an event is normal, and handled as
// above. Register Readable|Writable once, for the life of a connection:
// with the per-direction rule there is nothing to Reregister when output
// backs up or drains.
//
// # io_uring and threads
//
// On io_uring the kernel posts a poll's completion from the thread that
// submitted the poll (io_uring's task work; io_req_normal_work_add in
// io_uring/io_uring.c). Select submits what is queued from the thread it
// runs on; so do Deregister and Waker.Close before they return (queued
// requests name descriptors by number, and the caller closes them next),
// Close when Selects wait on the handle, and any call that finds the
// submission ring full (256 requests). Readiness caused on the submitting
// thread (a Wake, a write to a socketpair) is in the ring before the call
// that caused it returns; readiness caused anywhere else reaches the ring
// when that thread next enters the kernel: at once if it sleeps, within a
// timer tick if it runs Go code (milliseconds). A waiting Select is woken
// when it arrives, but a Select with a zero or tiny timeout can look
// before it does, and a goroutine that is not locked may run on any
// thread. An event loop that polls without waiting, or wants the latency
// of epoll, locks itself to its thread with runtime.LockOSThread and makes
// its own Register, Reregister and Deregister calls, as examples/httpd
// does; then it sees what happened before its Select, as on epoll.
//
// Example shows a loop that follows every rule (selector/example_test.go;
// go doc does not print examples, pkg.go.dev does).
//
// # Differences from mio
//
//   - Select retries EINTR itself with the time that remains: the Go runtime
//     signals its threads for preemption, and surfacing EINTR would make
//     every caller loop.
//   - Timeouts have nanosecond precision where the kernel has epoll_pwait2
//     (Linux 5.11+); elsewhere they are rounded up to whole milliseconds,
//     never down to zero.
//   - A Select that can block tells the Go scheduler (entersyscall), so
//     other goroutines keep running; a Select with a zero timeout does not,
//     and costs one raw system call.
//   - Several Wakers may share one Selector.
//   - WouldBlock re-arms only the direction that ran dry; mio's
//     IoSourceState::do_io re-arms every interest, so on its poll selector
//     a socket registered for both, which is always writable, reports
//     Writable again after every drained read.
//
// # Flags per OS
//
// How Interest maps to kernel flags, and kernel flags to the Event
// accessors, on epoll (as mio's src/sys/unix/selector/epoll.rs):
//
//	Readable        EPOLLIN | EPOLLRDHUP
//	Writable        EPOLLOUT
//	Priority        EPOLLPRI
//	AIO, LIO        unsupported (ErrUnsupportedInterest)
//	(always)        EPOLLET
//
//	IsReadable      EPOLLIN or EPOLLPRI
//	IsWritable      EPOLLOUT
//	IsError         EPOLLERR
//	IsReadClosed    EPOLLHUP, or EPOLLIN together with EPOLLRDHUP
//	IsWriteClosed   EPOLLHUP, EPOLLOUT together with EPOLLERR, or EPOLLERR alone
//	IsPriority      EPOLLPRI
//	IsAIO, IsLIO    never
//
// On kqueue (as mio's src/sys/unix/selector/kqueue.rs), every change is
// submitted with EV_RECEIPT and checked:
//
//	Readable        EVFILT_READ, EV_CLEAR
//	Writable        EVFILT_WRITE, EV_CLEAR
//	Priority        unsupported (ErrUnsupportedInterest)
//	AIO, LIO        accepted where the kernel delivers EVFILT_AIO (FreeBSD,
//	                DragonFly) / EVFILT_LIO (FreeBSD), without a filter:
//	                the aio request names the kqueue (SIGEV_KEVENT)
//
//	IsReadable      EVFILT_READ, or EVFILT_USER (a Waker)
//	IsWritable      EVFILT_WRITE
//	IsError         EV_ERROR, or EV_EOF with non-zero fflags
//	IsReadClosed    EVFILT_READ with EV_EOF
//	IsWriteClosed   EVFILT_WRITE with EV_EOF
//	IsPriority      never
//	IsAIO, IsLIO    EVFILT_AIO, EVFILT_LIO
//
// On poll, Readable is POLLIN|POLLRDHUP, Writable POLLOUT and Priority
// POLLPRI; the accessors map revents as epoll's table maps the EPOLL
// flags, and POLLNVAL (the fd was closed while registered) is an error.
//
// Where backends differ: registering an fd twice fails with EEXIST on epoll
// and poll and updates it on kqueue; deregistering an fd that is not
// registered fails with ENOENT on epoll and poll and succeeds on kqueue;
// epoll and io_uring refuse regular files and /dev/null (EPERM, from
// Register, and on epoll from Deregister too), kqueue and poll accept
// them; epoll and io_uring refuse to watch their own Fd (EINVAL: on
// io_uring the ring would keep itself alive), and io_uring any other ring
// too (EINVAL: two rings polling each other keep each other alive, and
// io_uring has no loop check like epoll's ELOOP); a poll Selector has no
// descriptor (Fd returns -1), and on poll and io_uring an fd closed while
// registered stays registered until Deregister (on io_uring the poll
// request even keeps the file open: a socket closed without Deregister is
// not closed until the Selector is), so deregister before close
// everywhere.
//
// # Concurrency
//
// All methods of Selector and Waker may be called from any goroutine, and
// several Selects may run at once on a Selector and its clones (each
// readiness goes to one of them on poll; epoll and kqueue wake them as the
// kernel does). Close may race with the other methods: a descriptor is
// closed only when no call is using it, so no call ever reaches the kernel
// with a descriptor number that Close has released and the process may
// have reused. Close wakes the Selects blocked on that Selector, and
// nothing of it is seen through a clone. A Waker belongs to the Selector
// it was made with: after that Selector's Close, Wake returns ErrClosed.
// The zero Selector and the zero Waker are closed. An Events value belongs
// to one goroutine at a time.
package selector

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Token identifies a registered descriptor in the events Select returns.
// It is stored in the kernel's own event record (epoll's 64-bit data) and
// read back from it, so any 64-bit value works.
type Token uint64

// Interest is the set of readiness kinds a registration asks for.
type Interest uint8

const (
	// Readable asks for read readiness, including the peer's hang-up.
	Readable Interest = 1 << iota
	// Writable asks for write readiness.
	Writable
	// Priority asks for urgent (out-of-band) data: EPOLLPRI on Linux.
	Priority
	// AIO asks for POSIX AIO completions (kqueue's EVFILT_AIO): unsupported
	// on Linux.
	AIO
	// LIO asks for lio_listio completions (kqueue's EVFILT_LIO):
	// unsupported on Linux.
	LIO

	allInterests = Readable | Writable | Priority | AIO | LIO
)

// Option configures New.
type Option func(*config)

type config struct {
	backend string
}

// WithBackend asks New for a backend by name: "epoll", "io_uring",
// "kqueue" or "poll". A backend this build or this kernel does not have
// gives the platform's default instead (on Linux, io_uring falls back to
// epoll where it is missing or refused); Backend says which one New chose.
// Any other name makes New fail with ErrUnknownBackend. Without this
// option, New reads RAWPOLL_BACKEND from the environment on Linux (the
// same names; empty is the default), so that a whole program or test suite
// can run on io_uring.
func WithBackend(name string) Option { return func(c *config) { c.backend = name } }

// ErrUnknownBackend is returned by New for a backend name, from
// WithBackend or RAWPOLL_BACKEND, that is none of "epoll", "io_uring",
// "kqueue" and "poll": a typo would otherwise silently give the default.
var ErrUnknownBackend = errors.New("selector: unknown backend (want epoll, io_uring, kqueue or poll)")

// applyOptions is the configuration opts make; env, when not nil, gives
// the backend when no option names one.
func applyOptions(opts []Option, env func() string) (config, error) {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	from := "WithBackend"
	if c.backend == "" && env != nil {
		c.backend, from = env(), "RAWPOLL_BACKEND"
	}
	switch c.backend {
	case "", "epoll", "io_uring", "kqueue", "poll":
		return c, nil
	}
	return c, fmt.Errorf("selector: %s %q: %w", from, c.backend, ErrUnknownBackend)
}

// checkDefined rejects Interest 0 and bits outside the defined interests,
// the check every backend makes before its own.
func checkDefined(in Interest) error {
	if in == 0 || in&^allInterests != 0 {
		return ErrInvalidInterest
	}
	return nil
}

var interestNames = [...]string{"READABLE", "WRITABLE", "PRIORITY", "AIO", "LIO"}

// String lists the interests by name, as mio's Debug does: "READABLE |
// WRITABLE". Undefined bits are shown in hex.
func (i Interest) String() string {
	if i == 0 {
		return "0"
	}
	var b strings.Builder
	for bit, name := range interestNames {
		if i&(1<<bit) != 0 {
			if b.Len() > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(name)
		}
	}
	if rest := i &^ allInterests; rest != 0 {
		if b.Len() > 0 {
			b.WriteString(" | ")
		}
		fmt.Fprintf(&b, "%#x", uint8(rest))
	}
	return b.String()
}

// Errors returned for bad input and misuse. Test for them with errors.Is;
// kernel errors are returned as *OpError wrapping a syscall.Errno, so
// errors.Is(err, syscall.EEXIST) (or fs.ErrExist) works as well.
var (
	// ErrClosed is returned by every method called after Close, and by the
	// methods of a nil *Selector or *Waker.
	ErrClosed = errors.New("selector: use of closed selector or waker")
	// ErrInvalidInterest is returned for Interest 0 or for bits outside the
	// defined interests.
	ErrInvalidInterest = errors.New("selector: invalid interest")
	// ErrUnsupportedInterest is returned for an interest the backend cannot
	// watch (AIO and LIO on epoll). It matches errors.ErrUnsupported too.
	ErrUnsupportedInterest = fmt.Errorf("selector: interest not supported by this backend: %w", errors.ErrUnsupported)
	// ErrNoCapacity is returned by Select for a nil Events or one whose
	// capacity is zero: the kernel could report nothing into it.
	ErrNoCapacity = errors.New("selector: events buffer is nil or has zero capacity")
	// ErrNilSelector is returned by NewWaker for a nil *Selector.
	ErrNilSelector = errors.New("selector: nil *Selector")
	// ErrBusyPollUnsupported is returned by SetBusyPoll where epoll busy
	// polling is not available: other backends, and Linux before 6.9. It
	// matches errors.ErrUnsupported too.
	ErrBusyPollUnsupported = fmt.Errorf("selector: epoll busy polling (EPIOCSPARAMS) not supported here: %w", errors.ErrUnsupported)
)

// OpError is the error returned when the kernel refuses a call, or when a
// descriptor is invalid before any call is made (a negative fd gives
// EBADF without a system call). It names the operation and the descriptor.
type OpError struct {
	Op  string // "register", "reregister", "deregister", "select", "new", "clone", "wake", ...
	Fd  int    // the descriptor the operation was about, or -1
	Err error  // a syscall.Errno in every case this package creates
}

func (e *OpError) Error() string {
	msg := "selector: " + e.Op
	if e.Fd >= 0 || e.Op == "register" || e.Op == "reregister" || e.Op == "deregister" {
		msg += fmt.Sprintf(" fd %d", e.Fd)
	}
	msg += ": " + e.Err.Error()
	if errors.Is(e.Err, syscall.EPERM) && e.Op == "register" {
		// epoll_ctl(2): EPERM "The target file fd does not support epoll";
		// regular files and directories are always ready, so there is
		// nothing to wait for.
		msg += " (the descriptor does not support polling: regular files and directories are always ready)"
	}
	return msg
}

// Unwrap returns the underlying error, usually a syscall.Errno.
func (e *OpError) Unwrap() error { return e.Err }

func opError(op string, fd int, errno syscall.Errno) error {
	return &OpError{Op: op, Fd: fd, Err: errno}
}

// Events is a reusable buffer that Select fills with the records the kernel
// wrote. Its capacity is fixed at NewEvents: when more descriptors are ready
// than it holds, the rest are reported by the next Select. It never grows
// and is never copied.
type Events struct {
	buf []sysEvent
	n   int
	// Completions of Sends and Recvs on io_uring (Completions), made on
	// first use; and the receive buffers they lend, given back to the ring
	// at the next Select or Clear.
	done []Completion
	nd   int
	lent bufLoans
}

// NewEvents returns an Events buffer for up to capacity events. A capacity
// below 1 gives a buffer that Select rejects with ErrNoCapacity; one above
// what the kernel accepts in a single call is reduced to that.
func NewEvents(capacity int) *Events {
	return &Events{buf: make([]sysEvent, min(max(capacity, 0), maxEvents))}
}

// Len is the number of events the last Select stored.
func (e *Events) Len() int {
	if e == nil {
		return 0
	}
	return e.n
}

// Cap is the number of events the buffer can hold.
func (e *Events) Cap() int {
	if e == nil {
		return 0
	}
	return len(e.buf)
}

// At returns the i-th event of the last Select, as a view into the kernel's
// record (valid until the next Select or Clear), or nil when i is not in
// [0, Len()).
func (e *Events) At(i int) *Event {
	if e == nil || uint(i) >= uint(e.n) {
		return nil
	}
	return (*Event)(&e.buf[i])
}

// All iterates over the events of the last Select, in the kernel's order,
// as views into its records.
func (e *Events) All() iter.Seq[*Event] {
	return func(yield func(*Event) bool) {
		if e == nil {
			return
		}
		buf := e.buf[:e.n]
		if len(buf) == 0 {
			return
		}
		// A pointer walked record by record up to the last one, not an
		// index: &buf[i] costs a multiply and two adds per event on amd64,
		// where the records are 12 bytes, and the index loop kept an
		// inline-mark NOP (bench-instr EventsAll: 8.25 -> 4.27
		// instructions per event, where a plain loop over the slice takes
		// 8.17). The pointer never moves past the last record, as
		// unsafe.Pointer's rule 3 requires.
		p, last := &buf[0], &buf[len(buf)-1]
		for yield((*Event)(p)) && p != last {
			p = (*sysEvent)(unsafe.Add(unsafe.Pointer(p), unsafe.Sizeof(*p)))
		}
	}
}

// Clear forgets the events of the last Select; Len becomes 0.
func (e *Events) Clear() {
	if e != nil {
		e.n, e.nd = 0, 0
		e.lent.giveBack()
	}
}

// Completions returns the completions of Sends and Recvs the last Select
// stored (io_uring only; empty elsewhere), valid until the next Select or
// Clear on these Events.
func (e *Events) Completions() []Completion {
	if e == nil {
		return nil
	}
	return e.done[:e.nd]
}

// Op is the operation a Completion completes.
type Op uint8

const (
	// OpSend completes a Send.
	OpSend Op = 1 + iota
	// OpRecv is a chunk received by a Recv.
	OpRecv
)

// Completion is the result of a Send or of a Recv that the kernel carried
// out through an io_uring Selector's rings, as Select reports it.
type Completion struct {
	Token Token // the token given to Send or Recv
	Op    Op
	// Res is the number of bytes sent or received, or -errno (see Err).
	// A Send completes short only when the connection failed part way
	// (Selector.Send): its next call on the fd meets the error. On a Recv,
	// 0 is end of file.
	Res int
	// Buf, for OpSend, is the buffer given to Send, handed back: it is the
	// caller's again. For OpRecv it is the data received, a view of a
	// buffer of the Selector's ring, valid until the next Select or Clear
	// on these Events, which give it back to the kernel: copy what must
	// live longer. It stays valid after the Selector's Close too: a closed
	// ring's buffers are unmapped once every Events has given back what it
	// was lent (Events dropped without a last Select or Clear keep them).
	Buf []byte
	// More, for OpRecv: the receive goes on and more chunks will come.
	// False: it has ended, with this completion (end of file: Res 0; an
	// error; StopRecv: Res -ECANCELED, or a last chunk); Recv again to
	// resume.
	More bool
}

// Err returns the error of a completion with a negative Res (a
// syscall.Errno: EPIPE, ECONNRESET, ...), or nil.
func (c *Completion) Err() error {
	if c.Res >= 0 {
		return nil
	}
	return syscall.Errno(-c.Res)
}

// ErrRingOnly is returned by Send and Recv on a Selector whose backend is
// not io_uring: they go through its rings. It matches errors.ErrUnsupported.
var ErrRingOnly = fmt.Errorf("selector: Send and Recv need the io_uring backend: %w", errors.ErrUnsupported)

// Event is one readiness event: a view over the kernel's own record in an
// Events buffer, decoded by its methods without copying.
type Event sysEvent

// String prints the token, every accessor, and the raw kernel flags by
// name, as mio's debug_details does.
func (e *Event) String() string {
	return fmt.Sprintf("Event{token: %d, readable: %t, writable: %t, error: %t, read_closed: %t, write_closed: %t, priority: %t, aio: %t, lio: %t, details: %s}",
		uint64(e.Token()), e.IsReadable(), e.IsWritable(), e.IsError(), e.IsReadClosed(), e.IsWriteClosed(), e.IsPriority(), e.IsAIO(), e.IsLIO(), e.details())
}

// flagNames renders the set bits of v with the names in table, and any
// unnamed bits in hex.
func flagNames(v uint64, table []flagName) string {
	var b strings.Builder
	for _, f := range table {
		if v&f.bit != 0 {
			if b.Len() > 0 {
				b.WriteString("|")
			}
			b.WriteString(f.name)
			v &^= f.bit
		}
	}
	if v != 0 {
		if b.Len() > 0 {
			b.WriteString("|")
		}
		fmt.Fprintf(&b, "%#x", v)
	}
	if b.Len() == 0 {
		return "0"
	}
	return b.String()
}

type flagName struct {
	bit  uint64
	name string
}

// badFd reports a descriptor number the kernel cannot have: negative, or
// beyond the C int every system call takes (a larger Go int would be
// truncated to its low 32 bits and name another descriptor). One unsigned
// compare covers both.
func badFd(fd int) bool { return uint64(fd) > math.MaxInt32 }

// fdRef guards a descriptor number against reuse. Every call that passes
// the descriptor to the kernel holds a reference for the duration of the
// call; Close marks the descriptor closed, and the descriptor is closed for
// real by whichever of Close and the last reference comes last. This is
// internal/poll's fdMutex reduced to what a selector needs: without it, a
// Select racing Close could reach the kernel with a number that Close
// released and an open(2) elsewhere reused.
//
// The zero fdRef is closed: its descriptor was never installed (open is
// clear), so no call reaches the kernel and nothing is ever closed; a zero
// Selector or Waker is inert.
type fdRef struct {
	fd     int          // the descriptor; < 0: none of its own (only the closed state, before and hook)
	also   int          // a second descriptor closed with fd (set before the last release), or -1
	before func()       // run while fd is still open, just before it is closed, or nil
	hook   func()       // run after the descriptors are closed, or nil
	state  atomic.Int64 // refOpen | refClosed | references * refOne
	done   atomic.Bool  // the descriptor has been closed
}

const (
	refOpen   = 1 // set once, by init: the descriptor is installed
	refClosed = 2 // set by close
	// refOne is one reference. The count starts at bit 8, so that the low
	// byte holds the flags alone and acquire tests them with one byte
	// compare.
	refOne  = 1 << 8
	refMask = refOpen | refClosed
	// refDead is the state in which the last reference closes the
	// descriptor: installed, closed, no references.
	refDead = refOpen | refClosed
)

// init installs fd; until then the fdRef is closed.
func (r *fdRef) init(fd int) {
	r.fd, r.also = fd, -1
	r.state.Store(refOpen)
}

// acquire takes a reference and reports whether the descriptor is open.
// It is small enough to inline: one LOCK XADD on the fast path, the open
// test made on the value the add found (x86's XADD returns it; adding
// refOne leaves the flags alone, but without subtracting it again the
// compiler redoes the add on XADD's result), and constant results, so that
// the caller's test compiles to that one branch.
func (r *fdRef) acquire() bool {
	if uint8(r.state.Add(refOne)-refOne) != refOpen {
		r.acquireFailed()
		return false
	}
	return true
}

// take is acquire for the hot paths (Select, Register, Reregister,
// Deregister): when it reports false, the caller calls acquireFailed
// itself, on a path that returns. acquire's call on its failure path
// merges back into its caller's, so every argument live after it is
// spilled to the stack before the atomic add on the path that succeeds:
// seven stores in ctl (make bench-instr, EpollCtlMod). acquire repeats
// its test rather than calling it: written with take, acquire no longer
// inlines, and io_uring's Select(0) costs 15 instructions more.
func (r *fdRef) take() bool { return uint8(r.state.Add(refOne)-refOne) == refOpen }

// acquireFailed undoes the reference of an acquire that found the
// descriptor closed. Kept out of line so that acquire stays within the
// inlining budget.
//
//go:noinline
func (r *fdRef) acquireFailed() { r.release() }

// release drops a reference taken by acquire.
func (r *fdRef) release() {
	if r.state.Add(-refOne) == refDead {
		r.destroy()
	}
}

// close marks the descriptor closed and closes it if no call holds it. It
// reports the close(2) error when it closed the descriptor itself.
func (r *fdRef) close() error {
	if old := r.state.Or(refClosed); old != refOpen {
		return nil // closed before, never installed, or the last reference will close it
	}
	return r.destroy()
}

func (r *fdRef) destroy() error {
	if !r.done.CompareAndSwap(false, true) {
		return nil
	}
	if r.before != nil {
		r.before()
	}
	var err error
	if r.fd >= 0 {
		err = closeFd(r.fd)
	}
	if r.also >= 0 { // 0 is a descriptor like any other (stdin closed, a daemon's)
		closeFd(r.also)
	}
	if r.hook != nil {
		r.hook()
	}
	return err
}
