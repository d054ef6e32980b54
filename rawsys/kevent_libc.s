//go:build darwin || (openbsd && (amd64 || arm64))

// Trampolines into libc for kqueue(2) and kevent(2): the system call
// interface darwin (libSystem) and OpenBSD (libc.so; direct kevent
// syscalls give ENOSYS since 7.5) support for them. The symbols are
// imported in kevent_$GOOS.go without cgo. The Go side calls them through
// syscall.syscall6 or syscall.rawSyscall6, which switch to the system
// stack and, for syscall6, tell the scheduler. A JMP assembles the same on
// amd64 and arm64, so one file serves all four targets (32-bit OpenBSD is not built: see
// selector/unsupported.go).

#include "textflag.h"

TEXT libc_kqueue_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_kqueue(SB)

GLOBL	·libc_kqueue_trampoline_addr(SB), RODATA, $8
DATA	·libc_kqueue_trampoline_addr(SB)/8, $libc_kqueue_trampoline<>(SB)

TEXT libc_kevent_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_kevent(SB)

GLOBL	·libc_kevent_trampoline_addr(SB), RODATA, $8
DATA	·libc_kevent_trampoline_addr(SB)/8, $libc_kevent_trampoline<>(SB)
