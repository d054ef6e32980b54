//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"

	"github.com/rawpoll/rawpoll/rawsys"
)

// Address conversions between netip.AddrPort and the kernel's sockaddrs,
// without allocating (except for a zone: see fromSockaddr).

// putAddr writes ap into sa (28 bytes: room for either family) for a
// socket of family fam; an IPv4 address goes through the 16-byte
// sockaddr_in view of the same memory, which fits inside it (checkptr
// agrees); dual says an IPv6 socket is dual-stack, so that an
// IPv4 address goes as an IPv4-mapped one. It returns the length.
func putAddr(sa *rawsys.RawSockaddrInet6, fam int, dual bool, ap netip.AddrPort) (uint32, error) {
	a := ap.Addr()
	switch fam {
	case rawsys.AF_INET:
		a = a.Unmap()
		if !a.Is4() {
			return 0, ErrFamily
		}
		*(*rawsys.RawSockaddrInet4)(unsafe.Pointer(sa)) = rawsys.MakeSockaddrInet4(a.As4(), ap.Port())
		return rawsys.SizeofSockaddrInet4, nil
	case rawsys.AF_INET6:
		if !a.IsValid() || (a.Is4() || a.Is4In6()) && !dual {
			return 0, ErrFamily
		}
		var scope uint32
		if z := a.Zone(); z != "" {
			scope = zoneToScope(z)
		}
		*sa = rawsys.MakeSockaddrInet6(a.As16(), ap.Port(), scope)
		return rawsys.SizeofSockaddrInet6, nil
	}
	return 0, ErrFamily
}

// putStorage is putAddr into a full sockaddr_storage.
func putStorage(ss *rawsys.SockaddrStorage, fam int, dual bool, ap netip.AddrPort) (uint32, error) {
	return putAddr(ss.Inet6(), fam, dual, ap)
}

// fromSockaddr decodes an IPv4 or IPv6 sockaddr (n bytes) into an
// AddrPort: the zero AddrPort for any other family or a short length.
// IPv4-mapped IPv6 addresses (from a dual-stack socket) are unmapped. A
// non-zero IPv6 scope becomes a numeric zone, which allocates its string:
// only link-local peers have one.
func fromSockaddr(sa *rawsys.RawSockaddrInet6, n uint32) netip.AddrPort {
	switch int(sa.Family) {
	case rawsys.AF_INET:
		if n < rawsys.SizeofSockaddrInet4 {
			return netip.AddrPort{}
		}
		s4 := (*rawsys.RawSockaddrInet4)(unsafe.Pointer(sa)) // the smaller view of the same bytes
		return netip.AddrPortFrom(netip.AddrFrom4(s4.Addr), uint16(s4.Port[0])<<8|uint16(s4.Port[1]))
	case rawsys.AF_INET6:
		if n < rawsys.SizeofSockaddrInet6 {
			return netip.AddrPort{}
		}
		a := netip.AddrFrom16(sa.Addr)
		if a.Is4In6() {
			a = a.Unmap()
		} else if sa.ScopeID != 0 {
			a = a.WithZone(strconv.FormatUint(uint64(sa.ScopeID), 10))
		}
		return netip.AddrPortFrom(a, uint16(sa.Port[0])<<8|uint16(sa.Port[1]))
	}
	return netip.AddrPort{}
}

// zoneToScope maps a zone to an interface index: a number is taken as it
// is; a name is looked up (which allocates: use numeric zones on hot
// paths). An unknown name gives 0.
func zoneToScope(z string) uint32 {
	if n, err := strconv.ParseUint(z, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(z); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}

// familyOf picks the socket family for a local or remote address: IPv4
// for IPv4 and IPv4-mapped addresses, IPv6 otherwise.
func familyOf(a netip.Addr) (int, bool) {
	switch {
	case !a.IsValid():
		return 0, false
	case a.Unmap().Is4():
		return rawsys.AF_INET, true
	default:
		return rawsys.AF_INET6, true
	}
}

// sockName reads getsockname or getpeername into an AddrPort.
func sockName(fd int, peer bool) netip.AddrPort {
	var ss rawsys.SockaddrStorage
	n, errno := rawName(fd, peer, &ss)
	if errno != 0 {
		return netip.AddrPort{}
	}
	return fromSockaddr(ss.Inet6(), n)
}

// rawName is getsockname, or getpeername when peer is set, into ss: the
// address's length. For sockName and unixName.
func rawName(fd int, peer bool, ss *rawsys.SockaddrStorage) (uint32, syscall.Errno) {
	n := uint32(unsafe.Sizeof(*ss))
	var errno syscall.Errno
	if peer {
		errno = rawsys.Getpeername(fd, ss, &n)
	} else {
		errno = rawsys.Getsockname(fd, ss, &n)
	}
	return n, errno
}

// recvFrom is recvfrom(2) into p with the sender's address in ss, EINTR
// retried: the bytes received and the address's length. For the ReadFrom
// methods.
func recvFrom(fd int, p []byte, ss *rawsys.SockaddrStorage) (int, uint32, syscall.Errno) {
	for {
		sl := uint32(unsafe.Sizeof(*ss))
		n, errno := rawsys.Recvfrom(fd, p, 0, ss, &sl)
		if errno != syscall.EINTR {
			return n, sl, errno
		}
	}
}

// sockFamily returns the address family of a socket (getsockname).
func sockFamily(fd int) int {
	var ss rawsys.SockaddrStorage
	n := uint32(unsafe.Sizeof(ss))
	if rawsys.Getsockname(fd, &ss, &n) != 0 {
		return 0
	}
	return ss.Family()
}
