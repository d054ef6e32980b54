// Raw io_uring stubs for Linux/arm64, in the convention of
// epoll_linux_arm64.s: one SVC on the goroutine's stack, NOSPLIT with no
// frame, never a call into the runtime. IoUringEnter and
// IoUringEnterTimeout (uring_linux.go) bracket IoUringEnterRaw with
// entersyscall/exitsyscall.
//
// io_uring has the same numbers on every architecture
// (include/uapi/asm-generic/unistd.h). The uint32 arguments are loaded with
// MOVWU, which zero-extends: the kernel takes them as unsigned int.

#include "textflag.h"

#define SYS_io_uring_setup	425
#define SYS_io_uring_enter	426
#define SYS_io_uring_register	427

// func IoUringSetup(entries uint32, params *IoUringParams) (fd int, errno syscall.Errno)
TEXT ·IoUringSetup(SB),NOSPLIT,$0-32
	MOVWU	entries+0(FP), R0
	MOVD	params+8(FP), R1
	MOVD	$SYS_io_uring_setup, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, fd+16(FP)
	NEG	R0, R0
	MOVD	R0, errno+24(FP)
	RET
ok:
	MOVD	R0, fd+16(FP)
	MOVD	ZR, errno+24(FP)
	RET

// func IoUringEnterRaw(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argsz uintptr) (n int, errno syscall.Errno)
TEXT ·IoUringEnterRaw(SB),NOSPLIT,$0-56
	MOVD	fd+0(FP), R0
	MOVWU	toSubmit+8(FP), R1
	MOVWU	minComplete+12(FP), R2
	MOVWU	flags+16(FP), R3
	MOVD	arg+24(FP), R4
	MOVD	argsz+32(FP), R5
	MOVD	$SYS_io_uring_enter, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, n+40(FP)
	NEG	R0, R0
	MOVD	R0, errno+48(FP)
	RET
ok:
	MOVD	R0, n+40(FP)
	MOVD	ZR, errno+48(FP)
	RET

// func IoUringRegister(fd int, opcode uint32, arg unsafe.Pointer, nrArgs uint32) (r int, errno syscall.Errno)
TEXT ·IoUringRegister(SB),NOSPLIT,$0-48
	MOVD	fd+0(FP), R0
	MOVWU	opcode+8(FP), R1
	MOVD	arg+16(FP), R2
	MOVWU	nrArgs+24(FP), R3
	MOVD	$SYS_io_uring_register, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, r+32(FP)
	NEG	R0, R0
	MOVD	R0, errno+40(FP)
	RET
ok:
	MOVD	R0, r+32(FP)
	MOVD	ZR, errno+40(FP)
	RET
