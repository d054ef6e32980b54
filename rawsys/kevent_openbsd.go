package rawsys

import _ "unsafe" // for go:cgo_import_dynamic

// Kevent_t is struct kevent on OpenBSD (32 bytes; sys/sys/event.h, 7.5).
type Kevent_t = Kevent32

// Kq holds OpenBSD's kqueue constants (no EVFILT_USER: Wakers use a pipe).
var Kq = KqOpenBSD

//go:cgo_import_dynamic libc_kqueue kqueue "libc.so"
//go:cgo_import_dynamic libc_kevent kevent "libc.so"
