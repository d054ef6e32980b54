package rawsys

// Kevent_t is struct kevent on DragonFly (32 bytes; sys/sys/event.h, 6.4).
type Kevent_t = Kevent32

// Kq holds DragonFly's kqueue constants.
var Kq = KqDragonFly

const (
	sysKqueue = 362 // kqueue(void); not close-on-exec
	// DragonFly has no kqueue1 or kqueuex (sys/kern/syscalls.master):
	// KqueueCloexec answers ENOSYS and the selector sets FD_CLOEXEC after
	// creation, under syscall.ForkLock.
	sysKqueueCloexec = 0
	kqueueCloexecArg = 0
	sysKevent        = 363
)
