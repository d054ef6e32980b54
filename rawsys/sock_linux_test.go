//go:build amd64 || arm64

package rawsys

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

type offsetPair struct {
	field      string
	ours, xsys uintptr
}

func checkLayout(t *testing.T, name string, ours, xsys uintptr, fields ...offsetPair) {
	t.Helper()
	if ours != xsys {
		t.Errorf("sizeof %s = %d, x/sys %d", name, ours, xsys)
	}
	for _, f := range fields {
		if f.ours != f.xsys {
			t.Errorf("%s.%s at offset %d, x/sys %d", name, f.field, f.ours, f.xsys)
		}
	}
}

// TestSockLayouts checks every view against x/sys, field by field.
func TestSockLayouts(t *testing.T) {
	var iov Iovec
	var xiov unix.Iovec
	checkLayout(t, "Iovec", unsafe.Sizeof(iov), unsafe.Sizeof(xiov),
		offsetPair{"Base", unsafe.Offsetof(iov.Base), unsafe.Offsetof(xiov.Base)},
		offsetPair{"Len", unsafe.Offsetof(iov.Len), unsafe.Offsetof(xiov.Len)})
	var m Msghdr
	var xm unix.Msghdr
	checkLayout(t, "Msghdr", unsafe.Sizeof(m), unsafe.Sizeof(xm),
		offsetPair{"Name", unsafe.Offsetof(m.Name), unsafe.Offsetof(xm.Name)},
		offsetPair{"Namelen", unsafe.Offsetof(m.Namelen), unsafe.Offsetof(xm.Namelen)},
		offsetPair{"Iov", unsafe.Offsetof(m.Iov), unsafe.Offsetof(xm.Iov)},
		offsetPair{"Iovlen", unsafe.Offsetof(m.Iovlen), unsafe.Offsetof(xm.Iovlen)},
		offsetPair{"Control", unsafe.Offsetof(m.Control), unsafe.Offsetof(xm.Control)},
		offsetPair{"Controllen", unsafe.Offsetof(m.Controllen), unsafe.Offsetof(xm.Controllen)},
		offsetPair{"Flags", unsafe.Offsetof(m.Flags), unsafe.Offsetof(xm.Flags)})
	var mm Mmsghdr
	var xmm unix.Mmsghdr
	checkLayout(t, "Mmsghdr", unsafe.Sizeof(mm), unsafe.Sizeof(xmm),
		offsetPair{"Hdr", unsafe.Offsetof(mm.Hdr), unsafe.Offsetof(xmm.Hdr)},
		offsetPair{"Len", unsafe.Offsetof(mm.Len), unsafe.Offsetof(xmm.Len)})
	var s4 RawSockaddrInet4
	var x4 unix.RawSockaddrInet4
	checkLayout(t, "RawSockaddrInet4", unsafe.Sizeof(s4), unix.SizeofSockaddrInet4,
		offsetPair{"Family", unsafe.Offsetof(s4.Family), unsafe.Offsetof(x4.Family)},
		offsetPair{"Port", unsafe.Offsetof(s4.Port), unsafe.Offsetof(x4.Port)},
		offsetPair{"Addr", unsafe.Offsetof(s4.Addr), unsafe.Offsetof(x4.Addr)},
		offsetPair{"Zero", unsafe.Offsetof(s4.Zero), unsafe.Offsetof(x4.Zero)})
	var s6 RawSockaddrInet6
	var x6 unix.RawSockaddrInet6
	checkLayout(t, "RawSockaddrInet6", unsafe.Sizeof(s6), unix.SizeofSockaddrInet6,
		offsetPair{"Family", unsafe.Offsetof(s6.Family), unsafe.Offsetof(x6.Family)},
		offsetPair{"Port", unsafe.Offsetof(s6.Port), unsafe.Offsetof(x6.Port)},
		offsetPair{"Flowinfo", unsafe.Offsetof(s6.Flowinfo), unsafe.Offsetof(x6.Flowinfo)},
		offsetPair{"Addr", unsafe.Offsetof(s6.Addr), unsafe.Offsetof(x6.Addr)},
		offsetPair{"ScopeID", unsafe.Offsetof(s6.ScopeID), unsafe.Offsetof(x6.Scope_id)})
	var su RawSockaddrUnix
	var xu unix.RawSockaddrUnix
	checkLayout(t, "RawSockaddrUnix", unsafe.Sizeof(su), unix.SizeofSockaddrUnix,
		offsetPair{"Family", unsafe.Offsetof(su.Family), unsafe.Offsetof(xu.Family)},
		offsetPair{"Path", unsafe.Offsetof(su.Path), unsafe.Offsetof(xu.Path)})
	if SizeofSockaddrUnixHeader != unsafe.Offsetof(xu.Path) {
		t.Errorf("SizeofSockaddrUnixHeader %d, x/sys sun_path offset %d", SizeofSockaddrUnixHeader, unsafe.Offsetof(xu.Path))
	}
	// sockaddr_storage: 128 bytes, 8-aligned, and larger than every view
	// (x/sys's RawSockaddrAny is 112 bytes, enough for sockaddr_un).
	var ss SockaddrStorage
	if unsafe.Sizeof(ss) != 128 || unsafe.Alignof(ss) != 8 || unsafe.Sizeof(ss) < unix.SizeofSockaddrAny {
		t.Errorf("SockaddrStorage: size %d align %d", unsafe.Sizeof(ss), unsafe.Alignof(ss))
	}
	var l unix.Linger
	if unsafe.Sizeof(l) != 8 {
		t.Errorf("struct linger is %d bytes", unsafe.Sizeof(l))
	}
}

func TestSockConstantsMatchXSys(t *testing.T) {
	pairs := []struct {
		name       string
		ours, xsys int64
	}{
		{"AF_UNIX", AF_UNIX, unix.AF_UNIX}, {"AF_INET", AF_INET, unix.AF_INET}, {"AF_INET6", AF_INET6, unix.AF_INET6},
		{"SOCK_STREAM", SOCK_STREAM, unix.SOCK_STREAM}, {"SOCK_DGRAM", SOCK_DGRAM, unix.SOCK_DGRAM},
		{"SOCK_NONBLOCK", SOCK_NONBLOCK, unix.SOCK_NONBLOCK}, {"SOCK_CLOEXEC", SOCK_CLOEXEC, unix.SOCK_CLOEXEC},
		{"SOL_SOCKET", SOL_SOCKET, unix.SOL_SOCKET}, {"SO_REUSEADDR", SO_REUSEADDR, unix.SO_REUSEADDR},
		{"SO_TYPE", SO_TYPE, unix.SO_TYPE}, {"SO_ERROR", SO_ERROR, unix.SO_ERROR}, {"SO_SNDBUF", SO_SNDBUF, unix.SO_SNDBUF},
		{"SO_RCVBUF", SO_RCVBUF, unix.SO_RCVBUF}, {"SO_KEEPALIVE", SO_KEEPALIVE, unix.SO_KEEPALIVE},
		{"SO_LINGER", SO_LINGER, unix.SO_LINGER}, {"SO_REUSEPORT", SO_REUSEPORT, unix.SO_REUSEPORT},
		{"IPPROTO_TCP", IPPROTO_TCP, unix.IPPROTO_TCP}, {"TCP_NODELAY", TCP_NODELAY, unix.TCP_NODELAY},
		{"SHUT_RD", SHUT_RD, unix.SHUT_RD}, {"SHUT_WR", SHUT_WR, unix.SHUT_WR}, {"SHUT_RDWR", SHUT_RDWR, unix.SHUT_RDWR},
		{"MSG_PEEK", MSG_PEEK, unix.MSG_PEEK}, {"MSG_TRUNC", MSG_TRUNC, unix.MSG_TRUNC},
		{"MSG_DONTWAIT", MSG_DONTWAIT, unix.MSG_DONTWAIT}, {"MSG_NOSIGNAL", MSG_NOSIGNAL, unix.MSG_NOSIGNAL},
	}
	for _, p := range pairs {
		if p.ours != p.xsys {
			t.Errorf("%s = %#x, x/sys has %#x", p.name, p.ours, p.xsys)
		}
	}
}

// TestNoSignalOnClosedPeer: with MSG_NOSIGNAL, Sendto and Sendmsg to a
// closed peer return EPIPE and raise no SIGPIPE; a write(2) does raise
// one, which proves the test can see it.
func TestNoSignalOnClosedPeer(t *testing.T) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGPIPE)
	defer signal.Stop(sigs)
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[0])
	unix.Close(sp[1])
	msg := []byte("x")
	if _, errno := Sendto(sp[0], msg, MSG_NOSIGNAL, nil, 0); errno != syscall.EPIPE {
		t.Fatalf("Sendto: %v, want EPIPE", errno)
	}
	m := MakeMsghdr(nil, 0, iovecs(msg))
	if _, errno := Sendmsg(sp[0], &m, MSG_NOSIGNAL); errno != syscall.EPIPE {
		t.Fatalf("Sendmsg: %v, want EPIPE", errno)
	}
	select {
	case s := <-sigs:
		t.Fatalf("%v raised with MSG_NOSIGNAL", s)
	case <-time.After(100 * time.Millisecond):
	}
	if _, errno := Write(sp[0], msg); errno != syscall.EPIPE {
		t.Fatalf("Write: %v, want EPIPE", errno)
	}
	select {
	case <-sigs:
	case <-time.After(5 * time.Second):
		t.Fatal("write(2) to a closed peer raised no SIGPIPE: the check above proves nothing")
	}
}

func TestUnixAddresses(t *testing.T) {
	var sa SockaddrStorage
	if n, ok := sa.SetUnix("@rawsys-test"); !ok || n != 2+12 || sa.Unix().Path[0] != 0 || string(sa.Unix().Path[1:12]) != "rawsys-test" {
		t.Fatalf("abstract: %d %v", n, ok)
	}
	if n, ok := sa.SetUnix("/tmp/x"); !ok || n != 2+6+1 || sa.Family() != AF_UNIX {
		t.Fatalf("pathname: %d %v", n, ok)
	}
	if n, ok := sa.SetUnix(""); !ok || n != 2 {
		t.Fatalf("unnamed: %d %v", n, ok)
	}
	if _, ok := sa.SetUnix(string(make([]byte, 109))); ok {
		t.Fatal("a 109-byte path fits in sun_path[108]")
	}
	// A real round trip through the abstract namespace: bind, connect,
	// accept, with the name read back.
	lfd := newSocket(t, AF_UNIX, unix.SOCK_STREAM)
	n, _ := sa.SetUnix("@rawsys-test-" + time.Now().Format("150405.000000000"))
	if _, _, errno := syscall.RawSyscall(unix.SYS_BIND, uintptr(lfd), uintptr(unsafe.Pointer(&sa)), uintptr(n)); errno != 0 {
		t.Fatal(errno)
	}
	if err := unix.Listen(lfd, 8); err != nil {
		t.Fatal(err)
	}
	cfd := newSocket(t, AF_UNIX, unix.SOCK_STREAM)
	if errno := Connect(cfd, &sa, n); errno != 0 {
		t.Fatalf("Connect(abstract): %v", errno)
	}
	var name SockaddrStorage
	nl := uint32(unsafe.Sizeof(name))
	if errno := Getpeername(cfd, &name, &nl); errno != 0 || nl != n || name.Unix().Path != sa.Unix().Path {
		t.Fatalf("Getpeername: %v, len %d (want %d)", errno, nl, n)
	}
	nfd, errno := Accept4(lfd, nil, nil, SOCK_NONBLOCK|SOCK_CLOEXEC)
	if errno != 0 {
		t.Fatal(errno)
	}
	if errno := Close(nfd); errno != 0 {
		t.Fatal(errno)
	}
	if errno := Close(nfd); errno != syscall.EBADF {
		t.Fatalf("Close twice: %v, want EBADF", errno)
	}
}

// Flags the portable tests pass: MSG_NOSIGNAL, and MSG_TRUNC on receive
// (Linux only: it makes recv return the datagram's real size).
const (
	noSignal  = MSG_NOSIGNAL
	truncFlag = MSG_TRUNC
)
