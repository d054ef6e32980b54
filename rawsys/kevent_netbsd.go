package rawsys

// Kevent_t is struct kevent on NetBSD (40 bytes; sys/sys/event.h, 10.0).
type Kevent_t = KeventNetBSD

// Kq holds NetBSD's kqueue constants (EVFILT_USER and EV_RECEIPT need
// NetBSD 10).
var Kq = KqNetBSD

const (
	// sysKqueue is kqueue1(2), which takes O_CLOEXEC (0x400000 on NetBSD,
	// sys/fcntl.h), so the descriptor is close-on-exec from the start.
	sysKqueue = 455
	kqueueArg = 0x400000
	// sysKevent is __kevent50, the kevent of the 64-bit time_t ABI
	// (NetBSD 5.0 and later) and of the 40-byte struct kevent.
	sysKevent = 435
)
