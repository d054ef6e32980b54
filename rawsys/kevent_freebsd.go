//go:build freebsd && (amd64 || arm64)

package rawsys

// Kevent_t is struct kevent on FreeBSD 12 and later (64 bytes, with ext).
type Kevent_t = KeventFreeBSD

// Kq holds FreeBSD's kqueue constants.
var Kq = KqFreeBSD

const (
	sysKqueue = 362 // kqueue(void); not close-on-exec
	// sysKqueueCloexec is kqueuex(u_int flags), FreeBSD 13.3 and 14.0 and
	// later (sys/kern/syscalls.master: 583 kqueuex); KQUEUE_CLOEXEC is
	// 0x1 (sys/sys/event.h). An older kernel answers ENOSYS with a SIGSYS,
	// which the Go runtime ignores on FreeBSD unless the program asked for
	// it (runtime/signal_freebsd.go, golang.org/issue/15204).
	sysKqueueCloexec = 583
	kqueueCloexecArg = 0x1
	// sysKevent is 560, the FreeBSD 12 kevent that reads the 64-bit
	// struct with ext[4]; 363 is freebsd11_kevent, the 32-byte struct.
	sysKevent = 560
)
