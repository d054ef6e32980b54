//go:build amd64 || arm64

package rawsys

import "unsafe"

// Kernel views for the socket calls on Linux, in the layout of
// include/uapi/linux/uio.h (iovec), include/linux/socket.h (msghdr,
// mmsghdr, sockaddr_storage), include/uapi/linux/in.h and in6.h
// (sockaddr_in, sockaddr_in6) and include/uapi/linux/un.h (sockaddr_un).
// The layouts are the same on amd64 and arm64; TestSockLayouts checks
// every size and offset against golang.org/x/sys/unix.

// Socket constants the calls and their tests use, as the kernel defines
// them (include/linux/socket.h, include/uapi/asm-generic/socket.h,
// include/uapi/linux/in.h, tcp.h, uio.h). The asm-generic values hold on
// amd64 and arm64 alike.
const (
	AF_UNIX  = 0x1
	AF_INET  = 0x2
	AF_INET6 = 0xa

	SOCK_STREAM   = 0x1
	SOCK_DGRAM    = 0x2
	SOCK_NONBLOCK = 0x800
	SOCK_CLOEXEC  = 0x80000

	SOL_SOCKET   = 0x1
	SO_REUSEADDR = 0x2
	SO_TYPE      = 0x3
	SO_ERROR     = 0x4
	SO_SNDBUF    = 0x7
	SO_RCVBUF    = 0x8
	SO_KEEPALIVE = 0x9
	SO_LINGER    = 0xd
	SO_REUSEPORT = 0xf

	IPPROTO_TCP = 0x6
	TCP_NODELAY = 0x1

	SHUT_RD   = 0x0
	SHUT_WR   = 0x1
	SHUT_RDWR = 0x2

	MSG_PEEK     = 0x2
	MSG_TRUNC    = 0x20
	MSG_DONTWAIT = 0x40
	MSG_NOSIGNAL = 0x4000

	// IOV_MAX is the most iovecs one readv, writev, sendmsg or recvmsg
	// takes (UIO_MAXIOV); more fail with EINVAL. It is also the largest
	// vlen recvmmsg and sendmmsg use (they clamp larger values to it).
	IOV_MAX = 1024
)

// Iovec is struct iovec: 16 bytes, a base pointer and a length.
type Iovec struct {
	Base *byte
	Len  uint64
}

// MakeIovec returns an iovec for p. The caller keeps p alive until the
// call that uses the iovec returns (a []Iovec passed to a stub is an
// argument, so the pointers it holds are seen by the GC for the duration
// of the call). It returns a value rather than setting through a pointer:
// the compiler treats a pointer stored through a pointer as escaping, so a
// setter would move stack buffers to the heap.
func MakeIovec(p []byte) Iovec {
	return Iovec{Base: unsafe.SliceData(p), Len: uint64(len(p))}
}

// Msghdr is struct msghdr (user_msghdr): 56 bytes.
type Msghdr struct {
	Name       *byte
	Namelen    uint32
	_          [4]byte
	Iov        *Iovec
	Iovlen     uint64
	Control    *byte
	Controllen uint64
	Flags      int32
	_          [4]byte
}

// MakeMsghdr returns a header for a message with the address at name (a
// SockaddrStorage or one of the views; nil for none), namelen its length
// (or its capacity, for a receive), and data iov, returned by value for
// the reason MakeIovec gives.
func MakeMsghdr(name unsafe.Pointer, namelen uint32, iov []Iovec) Msghdr {
	return Msghdr{Name: (*byte)(name), Namelen: namelen, Iov: unsafe.SliceData(iov), Iovlen: uint64(len(iov))}
}

// Mmsghdr is struct mmsghdr: a Msghdr and the byte count the kernel
// stores for that message: 64 bytes.
type Mmsghdr struct {
	Hdr Msghdr
	Len uint32
	_   [4]byte
}

// SockaddrStorage is struct sockaddr_storage: 128 bytes, 8-aligned, large
// enough for every address family; the typed views below overlay it.
type SockaddrStorage struct {
	family uint16
	_      [6]byte
	_      [15]uint64
}

// RawSockaddrInet4 is struct sockaddr_in: 16 bytes. Port is in network
// byte order.
type RawSockaddrInet4 struct {
	Family uint16
	Port   [2]byte
	Addr   [4]byte
	Zero   [8]byte
}

// RawSockaddrInet6 is struct sockaddr_in6: 28 bytes. Port is in network
// byte order.
type RawSockaddrInet6 struct {
	Family   uint16
	Port     [2]byte
	Flowinfo uint32
	Addr     [16]byte
	ScopeID  uint32
}

// RawSockaddrUnix is struct sockaddr_un: 110 bytes. On Linux a Path whose
// first byte is 0 names a socket in the abstract namespace (unix(7)).
type RawSockaddrUnix struct {
	Family uint16
	Path   [108]byte
}

// SizeofSockaddrUnixHeader is offsetof(struct sockaddr_un, sun_path): the
// length of an unnamed Unix address.
const SizeofSockaddrUnixHeader = 2

// Family returns the address family the kernel stored (AF_INET, ...).
func (s *SockaddrStorage) Family() int { return int(s.family) }

// Inet4 views the storage as a sockaddr_in.
func (s *SockaddrStorage) Inet4() *RawSockaddrInet4 { return (*RawSockaddrInet4)(unsafe.Pointer(s)) }

// Inet6 views the storage as a sockaddr_in6.
func (s *SockaddrStorage) Inet6() *RawSockaddrInet6 { return (*RawSockaddrInet6)(unsafe.Pointer(s)) }

// Unix views the storage as a sockaddr_un.
func (s *SockaddrStorage) Unix() *RawSockaddrUnix { return (*RawSockaddrUnix)(unsafe.Pointer(s)) }

// MakeSockaddrInet4 returns a sockaddr_in for addr and port.
func MakeSockaddrInet4(addr [4]byte, port uint16) RawSockaddrInet4 {
	return RawSockaddrInet4{Family: AF_INET, Port: [2]byte{byte(port >> 8), byte(port)}, Addr: addr}
}

// MakeSockaddrInet6 returns a sockaddr_in6 for addr, port and scope (an
// interface index, for link-local addresses).
func MakeSockaddrInet6(addr [16]byte, port uint16, scope uint32) RawSockaddrInet6 {
	return RawSockaddrInet6{Family: AF_INET6, Port: [2]byte{byte(port >> 8), byte(port)}, Addr: addr, ScopeID: scope}
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

// SetUnix stores a Unix socket path and returns the address length, or
// false when the path does not fit in sun_path. A path starting with '@'
// names the abstract namespace: the '@' becomes the leading 0 byte and the
// length counts exactly the name, with no terminating 0 (unix(7)). The
// empty path is the unnamed address (binding it autobinds an abstract
// name). A pathname is stored with its terminating 0 when it fits.
func (s *SockaddrStorage) SetUnix(path string) (uint32, bool) {
	u := s.Unix()
	u.Family = AF_UNIX
	if len(path) > len(u.Path) {
		return 0, false
	}
	n := copy(u.Path[:], path)
	clear(u.Path[n:])
	if n > 0 && path[0] == '@' {
		u.Path[0] = 0
		return uint32(SizeofSockaddrUnixHeader + n), true
	}
	if n > 0 && n < len(u.Path) {
		n++ // the terminating 0
	}
	return uint32(SizeofSockaddrUnixHeader + n), true
}
