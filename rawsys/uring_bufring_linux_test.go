//go:build amd64 || arm64

package rawsys

import (
	"runtime/debug"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestIoUringBufRing receives through a provided-buffer ring with a
// multishot recv: each completion names the buffer the kernel filled, the
// buffer goes back with Recycle+Publish, and when the ring runs dry the
// receive ends with -ENOBUFS.
func TestIoUringBufRing(t *testing.T) {
	r := newRing(t, 8, nil)
	const bgid, count, size = 3, 4, 16
	b, errno := r.NewBufRing(bgid, count, size)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer b.Close()
	if tail := *(*uint16)(unsafe.Pointer(&b.ringMem[14])); tail != count {
		t.Fatalf("ring tail %d after registering %d buffers", tail, count)
	}
	if _, errno := r.NewBufRing(bgid, count, size); errno != syscall.EEXIST {
		t.Fatalf("second ring for group %d: %v, want EEXIST", bgid, errno)
	}
	if _, errno := r.NewBufRing(9, 3, size); errno != syscall.EINVAL {
		t.Fatalf("3 buffers: %v, want EINVAL", errno)
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[0])
	defer unix.Close(sp[1])
	s := getSqe(t, r)
	s.PrepRecvProvided(sp[1], bgid, 0, true)
	s.UserData = 77
	submit(t, r, 1)
	noMore(t, r)
	used := map[uint16]bool{}
	for i := range 6 { // more messages than buffers: recycling keeps it going
		msg := []byte{'m', byte('0' + i)}
		if _, errno := Write(sp[0], msg); errno != 0 {
			t.Fatal(errno)
		}
		c := reap(t, r, 1)[0]
		bid, ok := c.BufferID()
		if c.UserData != 77 || c.Res != int32(len(msg)) || !ok || !c.More() {
			t.Fatalf("message %d: %+v (buffer %d, %v)", i, c, bid, ok)
		}
		if got := b.Buf(bid)[:c.Res]; string(got) != string(msg) {
			t.Fatalf("message %d in buffer %d: %q", i, bid, got)
		}
		used[bid] = true
		b.Recycle(bid)
		b.Publish()
	}
	if len(used) != count {
		t.Fatalf("buffers used: %v, want all %d", used, count)
	}
	// Hold every buffer: the fifth message finds none.
	var bids []uint16
	for i := range count + 1 {
		Write(sp[0], []byte{byte(i)})
		c := reap(t, r, 1)[0]
		if i < count {
			bid, ok := c.BufferID()
			if !ok || c.Res != 1 || !c.More() {
				t.Fatalf("held message %d: %+v", i, c)
			}
			bids = append(bids, bid)
			continue
		}
		if c.Res != -int32(syscall.ENOBUFS) || c.More() {
			t.Fatalf("with no buffer left: %+v, want -ENOBUFS and the end of the receive", c)
		}
	}
	// Give them back in reverse, so that ring slots and buffer IDs no
	// longer match (a Publish that clobbered entry 0's bid would show),
	// re-arm and receive into each.
	for i := range bids {
		b.Recycle(bids[len(bids)-1-i])
	}
	b.Publish()
	if tail := *(*uint16)(unsafe.Pointer(&b.ringMem[14])); tail != b.tail {
		t.Fatalf("published tail %d, local %d", tail, b.tail)
	}
	var b1 [1]byte
	if n, _ := Read(sp[1], b1[:]); n != 1 || b1[0] != count { // the message that found no buffer
		t.Fatalf("leftover message: %d %v", n, b1)
	}
	s = getSqe(t, r)
	s.PrepRecvProvided(sp[1], bgid, 0, true)
	s.UserData = 78
	submit(t, r, 1)
	for i := range count {
		msg := []byte{'r', byte('a' + i)}
		Write(sp[0], msg)
		c := reap(t, r, 1)[0]
		bid, ok := c.BufferID()
		if !ok || c.Res != int32(len(msg)) || string(b.Buf(bid)[:c.Res]) != string(msg) {
			t.Fatalf("after recycling in reverse, message %d: %+v, buffer %d holds %q", i, c, bid, b.Buf(bid)[:max(c.Res, 0)])
		}
		if want := bids[len(bids)-1-i]; bid != want {
			t.Fatalf("message %d in buffer %d, want %d (recycle order)", i, bid, want)
		}
	}
	s = getSqe(t, r)
	s.PrepCancel(78, 0)
	s.UserData = 79
	submit(t, r, 1)
	reap(t, r, 2)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var n int
	if a := testing.AllocsPerRun(100, func() {
		n += len(b.Buf(bids[0]))
		b.Recycle(bids[0])
		b.tail-- // white box: take it back, every buffer is in the ring already
		b.Publish()
	}); a != 0 {
		t.Fatalf("Buf+Recycle+Publish: %v allocations per run", a)
	}
	if errno := b.Close(); errno != 0 || b.Close() != 0 {
		t.Fatalf("Close: %v", errno)
	}
}
