//go:build openbsd && (amd64 || arm64)

package rawsys

import _ "unsafe" // for go:cgo_import_dynamic

// Kevent_t is struct kevent on OpenBSD (32 bytes; sys/sys/event.h 1.74).
type Kevent_t = Kevent32

// Kq holds OpenBSD's kqueue constants. EVFILT_USER exists since
// sys/sys/event.h 1.74 (2025-05, OpenBSD 7.8); older kernels refuse it
// with EINVAL and the selector falls back to a pipe.
var Kq = KqOpenBSD

// kqueue1 is in OpenBSD's libc only since 7.8, and a dynamic import of a
// symbol the running libc lacks stops the binary from loading at all, so
// only kqueue is imported: the selector sets FD_CLOEXEC after creation,
// under syscall.ForkLock (see selector/kqueue.go).

//go:cgo_import_dynamic libc_kqueue kqueue "libc.so"
//go:cgo_import_dynamic libc_kevent kevent "libc.so"
