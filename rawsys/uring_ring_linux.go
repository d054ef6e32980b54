//go:build amd64 || arm64

package rawsys

import (
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// IoUring is one io_uring instance: the ring descriptor and views of its
// three shared mappings (the SQ ring, the CQ ring, one mapping for both
// with IORING_FEAT_SINGLE_MMAP, and the SQE array). It is mechanism only:
// it hands out SQEs and reads CQEs with the orderings the kernel documents,
// and gives no meaning to any completion.
//
// Ordering (include/uapi/linux/io_uring.h and io_uring/io_uring.c): the
// kernel publishes a CQE and then store-releases the CQ tail, and
// load-acquires the SQ tail before reading SQEs; it store-releases the SQ
// head once it has read SQEs and load-acquires the CQ head before reusing
// a CQE slot. So the application must load-acquire the CQ tail before
// reading CQEs, store-release the CQ head after it, load-acquire the SQ
// head before reusing an SQE slot, and store-release the SQ tail after
// writing SQEs. Go's sync/atomic Load and Store are sequentially
// consistent, which is at least acquire and release: a plain MOV and an
// XCHG on amd64, LDAR and STLR on arm64. The kernel's flag and counter
// words (SQ flags, dropped, CQ overflow) are read with atomic loads too:
// the kernel changes them at any time.
//
// The SQ side (GetSqe, SqSpace, FlushSq, Submit, SubmitAndWait) and the CQ
// side (CqReady, PeekCqe, CqeAt, CqAdvance) share no state, so one
// goroutine may submit while another reaps or waits in io_uring_enter; but
// each side takes one user at a time (serialise with a lock), as liburing's
// do. The views are valid until Close; a pointer from GetSqe until the next
// FlushSq, one from PeekCqe or CqeAt until the CqAdvance that passes it.
type IoUring struct {
	// Sq and Cq are the views of the ring headers in the shared mappings.
	Sq IoUringSq
	Cq IoUringCq

	fd     int
	params IoUringParams

	sqMap, cqMap, sqeMap []byte // cqMap is nil with IORING_FEAT_SINGLE_MMAP

	// Application-private SQ state: the next SQE GetSqe hands out and the
	// tail last published to the kernel.
	sqeTail     uint32
	sqPublished uint32
	sqeShift    uint32 // 1 with IORING_SETUP_SQE128: each SQE takes two slots
	cqeShift    uint32 // 1 with IORING_SETUP_CQE32
}

// IoUringSq holds views of the submission ring. Head, Flags and Dropped
// are the kernel's to write; Tail is the application's. Array is the
// index array (nil with IORING_SETUP_NO_SQARRAY); MapIoUring fills it with
// the identity, so that SQE i of the ring is Sqes[i&Mask] and Array never
// needs rewriting.
type IoUringSq struct {
	Head, Tail, Flags, Dropped *uint32
	Mask, Entries              uint32
	Array                      []uint32
	Sqes                       []IoUringSqe
}

// IoUringCq holds views of the completion ring. Tail and Overflow are the
// kernel's to write; Head and Flags are the application's.
type IoUringCq struct {
	Head, Tail, Overflow, Flags *uint32
	Mask, Entries               uint32
	Cqes                        []IoUringCqe
}

// NewIoUring is io_uring_setup followed by MapIoUring. params carries the
// setup flags (and CqEntries with IORING_SETUP_CQSIZE) in and the kernel's
// answer out. It is a cold path: the mappings are made with x/sys
// unix.Mmap.
func NewIoUring(entries uint32, params *IoUringParams) (*IoUring, syscall.Errno) {
	fd, errno := IoUringSetup(entries, params)
	if errno != 0 {
		return nil, errno
	}
	r, errno := MapIoUring(fd, params)
	if errno != 0 {
		unix.Close(fd)
		return nil, errno
	}
	return r, 0
}

// MapIoUring maps the rings of fd, a descriptor io_uring_setup returned
// with params. On success the IoUring owns fd (Close closes it); on
// failure fd is left open.
func MapIoUring(fd int, params *IoUringParams) (*IoUring, syscall.Errno) {
	r := &IoUring{fd: -1, params: *params}
	p := &r.params
	if p.Flags&(IORING_SETUP_NO_MMAP|IORING_SETUP_REGISTERED_FD_ONLY) != 0 {
		return nil, syscall.EINVAL // no rings to map at the magic offsets, or no descriptor
	}
	if p.SqEntries == 0 || p.CqEntries == 0 || p.SqEntries&(p.SqEntries-1) != 0 || p.CqEntries&(p.CqEntries-1) != 0 {
		return nil, syscall.EINVAL // not what io_uring_setup returns: powers of two
	}
	if p.Flags&IORING_SETUP_SQE128 != 0 {
		r.sqeShift = 1
	}
	if p.Flags&IORING_SETUP_CQE32 != 0 {
		r.cqeShift = 1
	}
	noArray := p.Flags&IORING_SETUP_NO_SQARRAY != 0
	sqSize := uintptr(p.SqOff.Array) + uintptr(p.SqEntries)*4
	if noArray {
		sqSize = uintptr(p.SqOff.Dropped) + 4
	}
	cqSize := uintptr(p.CqOff.Cqes) + uintptr(p.CqEntries)*(SizeofIoUringCqe<<r.cqeShift)
	single := p.Features&IORING_FEAT_SINGLE_MMAP != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	const prot = unix.PROT_READ | unix.PROT_WRITE
	const flags = unix.MAP_SHARED | unix.MAP_POPULATE
	var err error
	if r.sqMap, err = unix.Mmap(fd, IORING_OFF_SQ_RING, int(sqSize), prot, flags); err != nil {
		return nil, toErrno(err)
	}
	cq := r.sqMap
	if !single {
		if r.cqMap, err = unix.Mmap(fd, IORING_OFF_CQ_RING, int(cqSize), prot, flags); err != nil {
			r.unmap()
			return nil, toErrno(err)
		}
		cq = r.cqMap
	}
	sqeSize := int(p.SqEntries) * (SizeofIoUringSqe << r.sqeShift)
	if r.sqeMap, err = unix.Mmap(fd, IORING_OFF_SQES, sqeSize, prot, flags); err != nil {
		r.unmap()
		return nil, toErrno(err)
	}

	// The views. Pointers into the mappings are outside the Go heap, so
	// the garbage collector ignores them; they are valid until unmap.
	sq := unsafe.Pointer(&r.sqMap[0])
	word := func(base unsafe.Pointer, off uint32) *uint32 { return (*uint32)(unsafe.Add(base, off)) }
	r.Sq = IoUringSq{
		Head:    word(sq, p.SqOff.Head),
		Tail:    word(sq, p.SqOff.Tail),
		Flags:   word(sq, p.SqOff.Flags),
		Dropped: word(sq, p.SqOff.Dropped),
		Mask:    *word(sq, p.SqOff.RingMask),
		Entries: *word(sq, p.SqOff.RingEntries),
		Sqes:    unsafe.Slice((*IoUringSqe)(unsafe.Pointer(&r.sqeMap[0])), int(p.SqEntries)<<r.sqeShift),
	}
	if !noArray {
		r.Sq.Array = unsafe.Slice(word(sq, p.SqOff.Array), p.SqEntries)
		for i := range r.Sq.Array {
			r.Sq.Array[i] = uint32(i)
		}
	}
	cqp := unsafe.Pointer(&cq[0])
	r.Cq = IoUringCq{
		Head:     word(cqp, p.CqOff.Head),
		Tail:     word(cqp, p.CqOff.Tail),
		Overflow: word(cqp, p.CqOff.Overflow),
		Mask:     *word(cqp, p.CqOff.RingMask),
		Entries:  *word(cqp, p.CqOff.RingEntries),
		Cqes:     unsafe.Slice((*IoUringCqe)(unsafe.Add(cqp, p.CqOff.Cqes)), int(p.CqEntries)<<r.cqeShift),
	}
	if p.CqOff.Flags != 0 { // 5.8+; before, the field reads 0
		r.Cq.Flags = word(cqp, p.CqOff.Flags)
	}
	r.sqeTail = atomic.LoadUint32(r.Sq.Tail)
	r.sqPublished = r.sqeTail
	r.fd = fd
	return r, 0
}

// toErrno extracts the errno from an x/sys error (they are all
// syscall.Errno there), EINVAL otherwise.
func toErrno(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EINVAL
}

func (r *IoUring) unmap() {
	for _, m := range []*[]byte{&r.sqeMap, &r.cqMap, &r.sqMap} {
		if *m != nil {
			unix.Munmap(*m)
			*m = nil
		}
	}
	r.Sq = IoUringSq{}
	r.Cq = IoUringCq{}
}

// Close unmaps the rings and closes the descriptor; the kernel then
// cancels whatever is still in flight. Views and pointers taken from r
// are invalid afterwards. A second Close does nothing.
func (r *IoUring) Close() syscall.Errno {
	if r.fd < 0 {
		return 0
	}
	r.unmap()
	fd := r.fd
	r.fd = -1
	if err := unix.Close(fd); err != nil {
		return toErrno(err)
	}
	return 0
}

// Fd returns the ring descriptor (-1 after Close).
func (r *IoUring) Fd() int { return r.fd }

// Params returns the parameters io_uring_setup filled in: the ring sizes
// it chose, the setup flags and the features (IORING_FEAT_*).
func (r *IoUring) Params() *IoUringParams { return &r.params }

// GetSqe returns the next free SQE, zeroed, or nil when the SQ ring is
// full (every slot handed out and not yet consumed by the kernel). The SQE
// reaches the kernel with the next FlushSq. No system call.
func (r *IoUring) GetSqe() *IoUringSqe {
	// Acquire: the kernel store-releases the head once it has read the
	// SQEs before it, so their slots may be overwritten.
	head := atomic.LoadUint32(r.Sq.Head)
	if r.sqeTail-head >= r.Sq.Entries {
		return nil
	}
	sqe := &r.Sq.Sqes[(r.sqeTail&r.Sq.Mask)<<r.sqeShift]
	r.sqeTail++
	*sqe = IoUringSqe{}
	return sqe
}

// SqSpace returns how many SQEs GetSqe can still hand out.
func (r *IoUring) SqSpace() uint32 {
	return r.Sq.Entries - (r.sqeTail - atomic.LoadUint32(r.Sq.Head))
}

// FlushSq publishes the SQEs handed out since the last flush (one
// store-release of the SQ tail, after which the kernel may read them) and
// returns how many published SQEs the kernel has not consumed yet: the
// toSubmit for io_uring_enter. No system call.
func (r *IoUring) FlushSq() uint32 {
	if r.sqeTail != r.sqPublished {
		// Release: every SQE store above is visible before the tail.
		atomic.StoreUint32(r.Sq.Tail, r.sqeTail)
		r.sqPublished = r.sqeTail
	}
	return r.sqPublished - atomic.LoadUint32(r.Sq.Head)
}

// Submit flushes the SQ and submits it with one io_uring_enter, without
// waiting for completions: IoUringEnterRaw, which cannot block here (see
// its doc). It returns the number of SQEs the kernel consumed; with
// nothing to submit it makes no system call.
func (r *IoUring) Submit() (int, syscall.Errno) {
	n := r.FlushSq()
	if n == 0 {
		return 0, 0
	}
	return IoUringEnterRaw(r.fd, n, 0, 0, nil, 0)
}

// SubmitAndWait flushes the SQ and makes one io_uring_enter that submits
// it and waits until minComplete completions are ready or ts expires (nil:
// no timeout): IoUringEnterTimeout, which tells the scheduler.
func (r *IoUring) SubmitAndWait(minComplete uint32, ts *Timespec) (int, syscall.Errno) {
	n := r.FlushSq()
	return IoUringEnterTimeout(r.fd, n, minComplete, IORING_ENTER_GETEVENTS, ts)
}

// CqReady returns how many completions are ready to read. Its load of the
// CQ tail is the acquire that makes the CQEs before it readable. No system
// call.
func (r *IoUring) CqReady() uint32 {
	return atomic.LoadUint32(r.Cq.Tail) - atomic.LoadUint32(r.Cq.Head)
}

// PeekCqe returns the oldest ready completion without consuming it, or nil
// when none is ready. No system call.
func (r *IoUring) PeekCqe() *IoUringCqe {
	head := atomic.LoadUint32(r.Cq.Head)
	if atomic.LoadUint32(r.Cq.Tail) == head {
		return nil
	}
	return &r.Cq.Cqes[(head&r.Cq.Mask)<<r.cqeShift]
}

// CqeAt returns the i-th ready completion, 0 being the oldest. i must be
// below a count CqReady returned since the last CqAdvance.
func (r *IoUring) CqeAt(i uint32) *IoUringCqe {
	return &r.Cq.Cqes[((atomic.LoadUint32(r.Cq.Head)+i)&r.Cq.Mask)<<r.cqeShift]
}

// CqAdvance consumes the n oldest ready completions: one store-release of
// the CQ head, after which the kernel may reuse their slots.
func (r *IoUring) CqAdvance(n uint32) {
	if n != 0 {
		atomic.StoreUint32(r.Cq.Head, atomic.LoadUint32(r.Cq.Head)+n)
	}
}

// SqFlags returns the kernel's SQ flags word (IORING_SQ_*).
func (r *IoUring) SqFlags() uint32 { return atomic.LoadUint32(r.Sq.Flags) }

// CqOverflowPending reports IORING_SQ_CQ_OVERFLOW: completions that did
// not fit in the CQ ring wait in the kernel's overflow list (with
// IORING_FEAT_NODROP nothing is lost). Any io_uring_enter with
// IORING_ENTER_GETEVENTS moves them into the ring as space allows, and the
// flag clears when the list is empty.
func (r *IoUring) CqOverflowPending() bool { return r.SqFlags()&IORING_SQ_CQ_OVERFLOW != 0 }

// TaskrunPending reports IORING_SQ_TASKRUN (rings set up with
// IORING_SETUP_TASKRUN_FLAG): completion work waits for this ring's
// submitter to enter the kernel, so the CQ ring may be missing completions
// until an io_uring_enter with IORING_ENTER_GETEVENTS.
func (r *IoUring) TaskrunPending() bool { return r.SqFlags()&IORING_SQ_TASKRUN != 0 }

// CqOverflow returns the kernel's count of completions it could not keep:
// with IORING_FEAT_NODROP only those it failed to allocate an overflow
// entry for.
func (r *IoUring) CqOverflow() uint32 { return atomic.LoadUint32(r.Cq.Overflow) }

// SqDropped returns the kernel's count of SQ entries it skipped because
// they named an SQE index out of range.
func (r *IoUring) SqDropped() uint32 { return atomic.LoadUint32(r.Sq.Dropped) }
