//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
)

// Option configures a socket at creation (Listen, ListenUDP, DialUDP,
// ListenUnix, ...). Options that do not apply to a kind of socket are
// ignored by it.
type Option func(*config)

type config struct {
	backlog   int
	reuseAddr int // -1: not set (the call's default), 0 off, 1 on
	reusePort bool
	dualStack bool
}

func newConfig(opts []Option) config {
	c := config{backlog: 4096, reuseAddr: -1}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Backlog sets the listen(2) backlog (default 4096; the kernel caps it at
// net.core.somaxconn on Linux, kern.ipc.soacceptqueue on FreeBSD).
func Backlog(n int) Option { return func(c *config) { c.backlog = n } }

// ReuseAddr sets SO_REUSEADDR: on by default for TCP listeners (as package
// net does, so that a restarted server can bind its port while old
// connections are in TIME_WAIT), off by default for UDP.
func ReuseAddr(on bool) Option {
	return func(c *config) {
		c.reuseAddr = 0
		if on {
			c.reuseAddr = 1
		}
	}
}

// ReusePort sets SO_REUSEPORT, so that several sockets (one per event
// loop) can bind the same address; on Linux the kernel then spreads
// incoming connections or datagrams across them.
func ReusePort() Option { return func(c *config) { c.reusePort = true } }

// DualStack makes an IPv6 socket accept IPv4 traffic as well
// (IPV6_V6ONLY off): IPv4 peers then appear as IPv4 addresses, unmapped.
// IPv6 sockets are IPv6-only by default, whatever the system default.
func DualStack() Option { return func(c *config) { c.dualStack = true } }

// setInt sets an int socket option through the raw stub (no allocation).
func setInt(fd, level, name, v int) error {
	x := int32(v)
	return errnoErr(rawsys.Setsockopt(fd, level, name, unsafe.Pointer(&x), 4))
}

func getInt(fd, level, name int) (int, error) {
	var x int32
	n := uint32(4)
	if errno := rawsys.Getsockopt(fd, level, name, unsafe.Pointer(&x), &n); errno != 0 {
		return 0, errno
	}
	return int(x), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// applyBind sets the options that must precede bind.
func (c *config) applyBind(fd, family int, reuseAddrDefault bool) error {
	reuse := reuseAddrDefault
	if c.reuseAddr >= 0 {
		reuse = c.reuseAddr == 1
	}
	if reuse {
		if err := setInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return opErr("setsockopt SO_REUSEADDR", "", err)
		}
	}
	if c.reusePort {
		if err := setInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return opErr("setsockopt SO_REUSEPORT", "", err)
		}
	}
	if family == unix.AF_INET6 {
		if err := setInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(!c.dualStack)); err != nil {
			return opErr("setsockopt IPV6_V6ONLY", "", err)
		}
	}
	return nil
}
