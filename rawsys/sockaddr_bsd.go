//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package rawsys

import "unsafe"

// Kernel views for the socket calls on darwin and the BSDs, which share
// the 4.4BSD layouts on 64-bit targets (sys/sys/uio.h, sys/sys/socket.h,
// netinet/in.h, netinet6/in6.h, sys/sys/un.h): every sockaddr starts with
// a length byte and a family byte, and msghdr's iovlen and controllen are
// 32-bit. TestSockLayoutsBSD (sock_bsd_test.go, run on the targets and
// compiled by make cross everywhere) checks them against x/sys.

// Flags and sizes shared by these systems. AF_INET6, MSG_NOSIGNAL and the
// accept flags differ and are in sock_$GOOS.go.
const (
	AF_UNIX = 0x1
	AF_INET = 0x2

	SHUT_RD   = 0x0
	SHUT_WR   = 0x1
	SHUT_RDWR = 0x2

	// IOV_MAX is the most iovecs one readv, writev, sendmsg or recvmsg
	// takes (1024 on darwin, FreeBSD, NetBSD, OpenBSD and DragonFly).
	IOV_MAX = 1024
)

// Iovec is struct iovec: 16 bytes.
type Iovec struct {
	Base *byte
	Len  uint64
}

// MakeIovec returns an iovec for p; see the Linux version for why it
// returns a value.
func MakeIovec(p []byte) Iovec {
	return Iovec{Base: unsafe.SliceData(p), Len: uint64(len(p))}
}

// Msghdr is struct msghdr: 48 bytes, with 32-bit iovlen and controllen.
type Msghdr struct {
	Name       *byte
	Namelen    uint32
	_          [4]byte
	Iov        *Iovec
	Iovlen     int32
	_          [4]byte
	Control    *byte
	Controllen uint32
	Flags      int32
}

// MakeMsghdr returns a header for a message with address name (nil for
// none) and data iov.
func MakeMsghdr(name unsafe.Pointer, namelen uint32, iov []Iovec) Msghdr {
	return Msghdr{Name: (*byte)(name), Namelen: namelen, Iov: unsafe.SliceData(iov), Iovlen: int32(len(iov))}
}

// Mmsghdr is struct mmsghdr where the kernel has one (NetBSD, OpenBSD:
// sys/sys/socket.h, a msghdr and an unsigned int length, 56 bytes). On
// darwin, FreeBSD and DragonFly no kernel call takes it (Recvmmsg and
// Sendmmsg are loops there) and the same layout is used.
type Mmsghdr struct {
	Hdr Msghdr
	Len uint32
	_   [4]byte
}

// SockaddrStorage is struct sockaddr_storage: 128 bytes, 8-aligned.
type SockaddrStorage struct {
	len    uint8
	family uint8
	_      [6]byte
	_      [15]uint64
}

// RawSockaddrInet4 is struct sockaddr_in: 16 bytes. Port is in network
// byte order.
type RawSockaddrInet4 struct {
	Len    uint8
	Family uint8
	Port   [2]byte
	Addr   [4]byte
	Zero   [8]byte
}

// RawSockaddrInet6 is struct sockaddr_in6: 28 bytes.
type RawSockaddrInet6 struct {
	Len      uint8
	Family   uint8
	Port     [2]byte
	Flowinfo uint32
	Addr     [16]byte
	ScopeID  uint32
}

// RawSockaddrUnix is struct sockaddr_un: 106 bytes. These systems have no
// abstract namespace.
type RawSockaddrUnix struct {
	Len    uint8
	Family uint8
	Path   [104]byte
}

// SizeofSockaddrUnixHeader is offsetof(struct sockaddr_un, sun_path).
const SizeofSockaddrUnixHeader = 2

// Family returns the address family the kernel stored.
func (s *SockaddrStorage) Family() int { return int(s.family) }

// Inet4 views the storage as a sockaddr_in.
func (s *SockaddrStorage) Inet4() *RawSockaddrInet4 { return (*RawSockaddrInet4)(unsafe.Pointer(s)) }

// Inet6 views the storage as a sockaddr_in6.
func (s *SockaddrStorage) Inet6() *RawSockaddrInet6 { return (*RawSockaddrInet6)(unsafe.Pointer(s)) }

// Unix views the storage as a sockaddr_un.
func (s *SockaddrStorage) Unix() *RawSockaddrUnix { return (*RawSockaddrUnix)(unsafe.Pointer(s)) }

// MakeSockaddrInet4 returns a sockaddr_in for addr and port.
func MakeSockaddrInet4(addr [4]byte, port uint16) RawSockaddrInet4 {
	return RawSockaddrInet4{Len: 16, Family: AF_INET, Port: [2]byte{byte(port >> 8), byte(port)}, Addr: addr}
}

// MakeSockaddrInet6 returns a sockaddr_in6 for addr, port and scope (an
// interface index, for link-local addresses).
func MakeSockaddrInet6(addr [16]byte, port uint16, scope uint32) RawSockaddrInet6 {
	return RawSockaddrInet6{Len: 28, Family: AF_INET6, Port: [2]byte{byte(port >> 8), byte(port)}, Addr: addr, ScopeID: scope}
}

// SetInet4 stores an IPv4 address and port and returns the address length
// to pass with it.
func (s *SockaddrStorage) SetInet4(addr [4]byte, port uint16) uint32 {
	*s.Inet4() = MakeSockaddrInet4(addr, port)
	return SizeofSockaddrInet4
}

// SetInet6 stores an IPv6 address, port and scope and returns the address
// length to pass with it.
func (s *SockaddrStorage) SetInet6(addr [16]byte, port uint16, scope uint32) uint32 {
	*s.Inet6() = MakeSockaddrInet6(addr, port, scope)
	return SizeofSockaddrInet6
}

// Sizes of the sockaddr views.
const (
	SizeofSockaddrInet4 = 16
	SizeofSockaddrInet6 = 28
)

// SetUnix stores a Unix socket path with its terminating 0 and returns the
// length (sun_len counts the 0, as x/sys and the C library do), or false
// when the path and its 0 do not fit in sun_path. '@' has no meaning here.
func (s *SockaddrStorage) SetUnix(path string) (uint32, bool) {
	u := s.Unix()
	if len(path) >= len(u.Path) {
		return 0, false
	}
	n := copy(u.Path[:], path)
	clear(u.Path[n:])
	l := SizeofSockaddrUnixHeader + n
	if n > 0 {
		l++
	}
	u.Len, u.Family = uint8(l), AF_UNIX
	return uint32(l), true
}
