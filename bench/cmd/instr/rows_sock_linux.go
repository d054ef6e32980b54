//go:build linux && !rawpoll_forcepoll && (amd64 || arm64)

package main

// The socket calls of package sock, each against x/sys doing the same
// work, named as bench/'s timing benchmarks are. Every loop drains what it
// writes in the same iteration with the same call for both impls, so the
// difference between the rows is the call measured.

import (
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/sock"
)

func init() {
	rows = append(rows,
		row{name: "Writev4x64/impl=rawsys", setup: sockWritev},
		row{name: "Writev4x64/impl=xsys", setup: xsysWritev},
		row{name: "Readv4x64/impl=rawsys", setup: sockReadv},
		row{name: "Readv4x64/impl=xsys", setup: xsysReadv},
		row{name: "Sendmmsg4x64/impl=rawsys", setup: sockWriteBatch},
		row{name: "Sendmmsg4x64/impl=xsys", setup: xsysSendmmsg},
		row{name: "Recvmmsg4x64/impl=rawsys", setup: sockReadBatch},
		row{name: "Recvmmsg4x64/impl=xsys", setup: xsysRecvmmsg},
	)
}

func fourBufs() [][]byte {
	b := make([][]byte, 4)
	for i := range b {
		b[i] = make([]byte, 64)
	}
	return b
}

func sockPair() (*sock.Conn, *sock.Conn, func()) {
	a, b, err := sock.Pair()
	if err != nil {
		panic(err)
	}
	return a, b, func() { a.Close(); b.Close() }
}

func sockWritev() (func(int), func()) {
	w, r, done := sockPair()
	bufs, drain, rfd := fourBufs(), make([]byte, 512), r.Fd()
	return func(n int) {
		for range n {
			if k, err := w.Writev(bufs); k != 256 || err != nil {
				panic(err)
			}
			if k, _ := rawsys.Read(rfd, drain); k != 256 {
				panic(k)
			}
		}
	}, done
}

func xsysWritev() (func(int), func()) {
	w, r, done := sockPair()
	bufs, drain, wfd, rfd := fourBufs(), make([]byte, 512), w.Fd(), r.Fd()
	return func(n int) {
		for range n {
			if k, err := unix.Writev(wfd, bufs); k != 256 || err != nil {
				panic(err)
			}
			if k, _ := rawsys.Read(rfd, drain); k != 256 {
				panic(k)
			}
		}
	}, done
}

func sockReadv() (func(int), func()) {
	w, r, done := sockPair()
	bufs, fill, wfd := fourBufs(), make([]byte, 256), w.Fd()
	return func(n int) {
		for range n {
			rawsys.Write(wfd, fill)
			if k, err := r.Readv(bufs); k != 256 || err != nil {
				panic(err)
			}
		}
	}, done
}

func xsysReadv() (func(int), func()) {
	w, r, done := sockPair()
	bufs, fill, wfd, rfd := fourBufs(), make([]byte, 256), w.Fd(), r.Fd()
	return func(n int) {
		for range n {
			rawsys.Write(wfd, fill)
			if k, err := unix.Readv(rfd, bufs); k != 256 || err != nil {
				panic(err)
			}
		}
	}, done
}

// batch is 4, not the 16 of the timing rows: a run under valgrind must stay
// shorter than sysmon's 10 ms preemption tick (bench/cmd/instr's rule).
const batch = 4

// udpPair is two UDP sockets on 127.0.0.1, a sending to b's address.
func udpPair() (a, b *sock.UDPConn, bAddr netip.AddrPort, done func()) {
	lo := netip.MustParseAddrPort("127.0.0.1:0")
	a, err := sock.ListenUDP(lo)
	if err != nil {
		panic(err)
	}
	if b, err = sock.ListenUDP(lo); err != nil {
		panic(err)
	}
	return a, b, b.LocalAddr(), func() { a.Close(); b.Close() }
}

func messages(dst netip.AddrPort) []sock.Message {
	ms := make([]sock.Message, batch)
	for i := range ms {
		ms[i] = sock.Message{Buf: make([]byte, 64), Addr: dst}
	}
	return ms
}

// xsysBatch is x/sys's way to a batch: it has no Sendmmsg or Recvmmsg
// wrapper, so the vector is x/sys's own Mmsghdr, sent with unix.Syscall6.
type xsysBatch struct {
	hdrs  []unix.Mmsghdr
	iov   []unix.Iovec
	names []unix.RawSockaddrInet4
	bufs  [][]byte
}

func newXsysBatch() *xsysBatch {
	x := &xsysBatch{hdrs: make([]unix.Mmsghdr, batch), iov: make([]unix.Iovec, batch), names: make([]unix.RawSockaddrInet4, batch), bufs: make([][]byte, batch)}
	for i := range x.hdrs {
		x.bufs[i] = make([]byte, 64)
		x.iov[i].Base = &x.bufs[i][0]
		x.iov[i].SetLen(64)
		x.hdrs[i].Hdr.Iov = &x.iov[i]
		x.hdrs[i].Hdr.Iovlen = 1
		x.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&x.names[i]))
		x.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
	}
	return x
}

func (x *xsysBatch) call(trap uintptr, fd int) int {
	r, _, errno := unix.Syscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&x.hdrs[0])), batch, 0, 0, 0)
	if errno != 0 {
		panic(syscall.Errno(errno))
	}
	return int(r)
}

func sockWriteBatch() (func(int), func()) {
	a, b, dst, done := udpPair()
	out, in := messages(dst), messages(netip.AddrPort{})
	return func(n int) {
		for range n {
			if k, err := a.WriteBatch(out); k != batch || err != nil {
				panic(err)
			}
			if k, err := b.ReadBatch(in); k != batch || err != nil {
				panic(err)
			}
		}
	}, done
}

func xsysSendmmsg() (func(int), func()) {
	a, b, dst, done := udpPair()
	x, in, afd := newXsysBatch(), messages(netip.AddrPort{}), a.Fd()
	return func(n int) {
		for range n {
			// The work WriteBatch does: each destination encoded from its
			// netip.AddrPort.
			for i := range x.names {
				sa := &x.names[i]
				*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: dst.Addr().As4()}
				p := (*[2]byte)(unsafe.Pointer(&sa.Port))
				p[0], p[1] = byte(dst.Port()>>8), byte(dst.Port())
				x.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
			}
			if k := x.call(unix.SYS_SENDMMSG, afd); k != batch {
				panic(k)
			}
			if k, err := b.ReadBatch(in); k != batch || err != nil {
				panic(err)
			}
		}
	}, done
}

func sockReadBatch() (func(int), func()) {
	a, b, dst, done := udpPair()
	out, in := messages(dst), messages(netip.AddrPort{})
	var sum uint16
	return func(n int) {
		for range n {
			if k, err := a.WriteBatch(out); k != batch || err != nil {
				panic(err)
			}
			if k, err := b.ReadBatch(in); k != batch || err != nil {
				panic(err)
			}
			sum += in[0].Addr.Port()
		}
	}, func() { sink += uint64(sum); done() }
}

func xsysRecvmmsg() (func(int), func()) {
	a, b, dst, done := udpPair()
	out, x, bfd := messages(dst), newXsysBatch(), b.Fd()
	var sum uint16
	return func(n int) {
		for range n {
			if k, err := a.WriteBatch(out); k != batch || err != nil {
				panic(err)
			}
			for i := range x.hdrs {
				x.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
			}
			if k := x.call(unix.SYS_RECVMMSG, bfd); k != batch {
				panic(k)
			}
			// The work ReadBatch does: each source decoded into a
			// netip.AddrPort.
			for i := range x.names {
				sa := &x.names[i]
				p := (*[2]byte)(unsafe.Pointer(&sa.Port))
				sum += netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1])).Port()
			}
		}
	}, func() { sink += uint64(sum); done() }
}
