package rawsys

import _ "unsafe" // for go:cgo_import_dynamic

// Kevent_t is struct kevent on darwin (32 bytes; xnu bsd/sys/event.h).
type Kevent_t = Kevent32

// Kq holds darwin's kqueue constants.
var Kq = KqDarwin

// darwin has neither kqueue1 nor pipe2: the selector sets FD_CLOEXEC after
// creation, under syscall.ForkLock (see selector/kqueue.go).

//go:cgo_import_dynamic libc_kqueue kqueue "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_kevent kevent "/usr/lib/libSystem.B.dylib"
