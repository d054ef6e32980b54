//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package rawsys

import (
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// noSignal is MSG_NOSIGNAL where sends take it (not darwin, which sock
// covers with SO_NOSIGPIPE); truncFlag is 0: MSG_TRUNC as a receive flag
// is Linux's.
var noSignal = map[bool]int{true: 0, false: MSG_NOSIGNAL}[runtime.GOOS == "darwin"]

const truncFlag = 0

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

// TestSockLayoutsBSD checks the views against this target's x/sys; it is
// compiled by make cross and runs on a real Mac or BSD.
func TestSockLayoutsBSD(t *testing.T) {
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
	if unsafe.Sizeof(Mmsghdr{}) != 56 {
		t.Errorf("Mmsghdr is %d bytes, struct mmsghdr 56", unsafe.Sizeof(Mmsghdr{}))
	}
	var s4 RawSockaddrInet4
	var x4 unix.RawSockaddrInet4
	checkLayout(t, "RawSockaddrInet4", unsafe.Sizeof(s4), unix.SizeofSockaddrInet4,
		offsetPair{"Len", unsafe.Offsetof(s4.Len), unsafe.Offsetof(x4.Len)},
		offsetPair{"Family", unsafe.Offsetof(s4.Family), unsafe.Offsetof(x4.Family)},
		offsetPair{"Port", unsafe.Offsetof(s4.Port), unsafe.Offsetof(x4.Port)},
		offsetPair{"Addr", unsafe.Offsetof(s4.Addr), unsafe.Offsetof(x4.Addr)})
	var s6 RawSockaddrInet6
	var x6 unix.RawSockaddrInet6
	checkLayout(t, "RawSockaddrInet6", unsafe.Sizeof(s6), unix.SizeofSockaddrInet6,
		offsetPair{"Port", unsafe.Offsetof(s6.Port), unsafe.Offsetof(x6.Port)},
		offsetPair{"Flowinfo", unsafe.Offsetof(s6.Flowinfo), unsafe.Offsetof(x6.Flowinfo)},
		offsetPair{"Addr", unsafe.Offsetof(s6.Addr), unsafe.Offsetof(x6.Addr)},
		offsetPair{"ScopeID", unsafe.Offsetof(s6.ScopeID), unsafe.Offsetof(x6.Scope_id)})
	var su RawSockaddrUnix
	var xu unix.RawSockaddrUnix
	checkLayout(t, "RawSockaddrUnix", unsafe.Sizeof(su), unix.SizeofSockaddrUnix,
		offsetPair{"Path", unsafe.Offsetof(su.Path), unsafe.Offsetof(xu.Path)})
	if unsafe.Sizeof(SockaddrStorage{}) < unix.SizeofSockaddrAny {
		t.Errorf("SockaddrStorage smaller than x/sys's RawSockaddrAny")
	}
	for _, c := range []struct {
		name       string
		ours, xsys int64
	}{
		{"AF_INET6", AF_INET6, unix.AF_INET6}, {"MSG_NOSIGNAL", MSG_NOSIGNAL, unix.MSG_NOSIGNAL},
		{"SHUT_WR", SHUT_WR, unix.SHUT_WR}, {"IOV_MAX", IOV_MAX, 1024},
	} {
		if c.ours != c.xsys {
			t.Errorf("%s = %#x, x/sys %#x", c.name, c.ours, c.xsys)
		}
	}
}
