//go:build netbsd && (amd64 || arm64)

package rawsys

// Kevent_t is struct kevent on NetBSD (40 bytes; sys/sys/event.h, 10.0).
type Kevent_t = KeventNetBSD

// Kq holds NetBSD's kqueue constants (EVFILT_USER and EV_RECEIPT need
// NetBSD 10).
var Kq = KqNetBSD

const (
	sysKqueue = 344 // kqueue(void); not close-on-exec
	// sysKqueueCloexec is kqueue1(2) (NetBSD 6.0 and later), which takes
	// O_CLOEXEC (0x400000, sys/fcntl.h), so the descriptor is
	// close-on-exec from the start.
	sysKqueueCloexec = 455
	kqueueCloexecArg = 0x400000
	// sysKevent is __kevent50, the kevent of the 64-bit time_t ABI
	// (NetBSD 5.0 and later) and of the 40-byte struct kevent.
	sysKevent = 435
)
