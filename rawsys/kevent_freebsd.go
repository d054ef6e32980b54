package rawsys

// Kevent_t is struct kevent on FreeBSD 12 and later (64 bytes, with ext).
type Kevent_t = KeventFreeBSD

// Kq holds FreeBSD's kqueue constants.
var Kq = KqFreeBSD

const (
	sysKqueue = 362 // kqueue(void); not close-on-exec
	kqueueArg = 0
	// sysKevent is 560, the FreeBSD 12 kevent that reads the 64-bit
	// struct with ext[4]; 363 is freebsd11_kevent, the 32-byte struct.
	sysKevent = 560
)
