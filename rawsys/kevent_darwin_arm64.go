package rawsys

import "unsafe" // and go:cgo_import_dynamic

// darwin/arm64. The system call interface is libSystem's: kqueue and
// kevent are reached through the trampolines of kevent_libc.s (one JMP,
// the same on both darwin architectures), imported below without cgo and
// called through the runtime's libc call path (syscall.syscall6).

// Kevent_t is struct kevent on darwin/arm64: the LP64 layout of xnu's
// bsd/sys/event.h, 32 bytes with udata at offset 24 (checked at compile
// time below, and against x/sys by rawsys/xsys_crosscheck_test.go).
type Kevent_t = Kevent32

// Kq holds darwin's kqueue constants.
var Kq = KqDarwin

// Compile-time layout checks: each array length is negative, and the
// build fails, unless the size and the offset are exactly the kernel's.
var (
	_ [unsafe.Sizeof(Kevent_t{}) - 32]struct{}
	_ [32 - unsafe.Sizeof(Kevent_t{})]struct{}
	_ [unsafe.Offsetof(Kevent_t{}.udata) - 24]struct{}
	_ [24 - unsafe.Offsetof(Kevent_t{}.udata)]struct{}
)

// darwin has neither kqueue1 nor pipe2: the selector sets FD_CLOEXEC after
// creation, under syscall.ForkLock (see selector/kqueue.go).

//go:cgo_import_dynamic libc_kqueue kqueue "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_kevent kevent "/usr/lib/libSystem.B.dylib"
