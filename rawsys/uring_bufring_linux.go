//go:build amd64 || arm64

package rawsys

import (
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// IoUringBufRing is a provided-buffer ring (IORING_REGISTER_PBUF_RING,
// 5.19+) together with the buffers it hands the kernel: count buffers of
// size bytes, in anonymous mappings of its own, so that the kernel writes
// only into memory the Go runtime never moves or frees. A receive prepared
// with PrepRecvProvided takes a buffer from the ring; its completion names
// it (IoUringCqe.BufferID) and the application owns it until it gives it
// back with Recycle and Publish.
//
// Ordering: the kernel load-acquires the ring's 16-bit tail before reading
// the entries below it, so Publish store-releases the tail after the
// entries are written. Go has no 16-bit atomics; the tail is the upper
// half of the 32-bit word at offset 12 of entry 0 (struct io_uring_buf_ring
// overlays it on bufs[0].resv), whose lower half is entry 0's bid, which
// only the application writes, so Publish stores the whole word at once
// (both architectures are little-endian).
//
// Not safe for concurrent use.
type IoUringBufRing struct {
	ringFd  int
	bgid    uint16
	mask    uint16
	tail    uint16 // next entry to fill; published by Publish
	size    uint32
	ringMem []byte
	bufMem  []byte
	bufs    []IoUringBuf
	tailW   *uint32 // bufs[0].Bid and the ring tail
}

// NewBufRing maps count buffers (a power of two, at most 32768) of size
// bytes each, registers them with r as buffer group bgid and hands them
// all to the kernel.
func (r *IoUring) NewBufRing(bgid uint16, count uint16, size uint32) (*IoUringBufRing, syscall.Errno) {
	if count == 0 || count&(count-1) != 0 || count > 32768 || size == 0 {
		return nil, syscall.EINVAL
	}
	b := &IoUringBufRing{ringFd: r.fd, bgid: bgid, mask: count - 1, size: size}
	const prot = unix.PROT_READ | unix.PROT_WRITE
	const flags = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_POPULATE
	var err error
	// The kernel requires a page-aligned ring: mmap's are.
	if b.ringMem, err = unix.Mmap(-1, 0, int(count)*SizeofIoUringBuf, prot, flags); err != nil {
		return nil, toErrno(err)
	}
	if b.bufMem, err = unix.Mmap(-1, 0, int(count)*int(size), prot, flags); err != nil {
		unix.Munmap(b.ringMem)
		return nil, toErrno(err)
	}
	b.bufs = unsafe.Slice((*IoUringBuf)(unsafe.Pointer(&b.ringMem[0])), count)
	b.tailW = (*uint32)(unsafe.Pointer(&b.bufs[0].Bid))
	reg := IoUringBufReg{RingAddr: uint64(uintptr(unsafe.Pointer(&b.ringMem[0]))), RingEntries: uint32(count), Bgid: bgid}
	if _, errno := IoUringRegister(r.fd, IORING_REGISTER_PBUF_RING, unsafe.Pointer(&reg), 1); errno != 0 {
		b.unmap()
		return nil, errno
	}
	for i := range count {
		b.Recycle(i)
	}
	b.Publish()
	return b, 0
}

// Bgid returns the buffer group ID the ring was registered as.
func (b *IoUringBufRing) Bgid() uint16 { return b.bgid }

// Buf returns buffer bid, size bytes; after a completion that names it,
// its first res bytes are the data. The slice is a view of the mapping,
// valid until Close.
func (b *IoUringBufRing) Buf(bid uint16) []byte {
	off := int(bid&b.mask) * int(b.size)
	return b.bufMem[off : off+int(b.size) : off+int(b.size)]
}

// Recycle queues buffer bid for the kernel again, once for each completion
// that handed it over (the ring has room for every buffer exactly once, and
// the kernel's head is not visible to check against). It reaches the kernel
// with the next Publish. No system call.
func (b *IoUringBufRing) Recycle(bid uint16) {
	e := &b.bufs[b.tail&b.mask]
	e.Addr = uint64(uintptr(unsafe.Pointer(&b.bufMem[int(bid&b.mask)*int(b.size)])))
	e.Len = b.size
	e.Bid = bid
	b.tail++
}

// Publish hands the recycled buffers to the kernel: one store-release of
// the ring tail. No system call.
func (b *IoUringBufRing) Publish() {
	atomic.StoreUint32(b.tailW, uint32(b.bufs[0].Bid)|uint32(b.tail)<<16)
}

// Close unregisters the buffer group and unmaps the ring and the
// buffers. The kernel must not be using them: cancel or finish the
// receives that take buffers from this group first.
func (b *IoUringBufRing) Close() syscall.Errno {
	if b.ringMem == nil {
		return 0
	}
	reg := IoUringBufReg{Bgid: b.bgid}
	_, errno := IoUringRegister(b.ringFd, IORING_UNREGISTER_PBUF_RING, unsafe.Pointer(&reg), 1)
	b.unmap()
	return errno
}

func (b *IoUringBufRing) unmap() {
	unix.Munmap(b.bufMem)
	unix.Munmap(b.ringMem)
	b.bufMem, b.ringMem, b.bufs, b.tailW = nil, nil, nil, nil
}
