// Raw io_uring stubs for Linux/amd64, in the convention of
// epoll_linux_amd64.s: one SYSCALL on the goroutine's stack, NOSPLIT with
// no frame, never a call into the runtime. IoUringEnter and
// IoUringEnterTimeout (uring_linux.go) bracket IoUringEnterRaw with
// entersyscall/exitsyscall.
//
// The uint32 arguments are loaded with MOVL, which zero-extends into the
// 64-bit register: the kernel takes them as unsigned int.

#include "textflag.h"

#define SYS_io_uring_setup	425
#define SYS_io_uring_enter	426
#define SYS_io_uring_register	427

// func IoUringSetup(entries uint32, params *IoUringParams) (fd int, errno syscall.Errno)
TEXT ·IoUringSetup(SB),NOSPLIT,$0-32
	MOVL	entries+0(FP), DI
	MOVQ	params+8(FP), SI
	MOVQ	$SYS_io_uring_setup, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, fd+16(FP)
	NEGQ	AX
	MOVQ	AX, errno+24(FP)
	RET
ok:
	MOVQ	AX, fd+16(FP)
	MOVQ	$0, errno+24(FP)
	RET

// func IoUringEnterRaw(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argsz uintptr) (n int, errno syscall.Errno)
TEXT ·IoUringEnterRaw(SB),NOSPLIT,$0-56
	MOVQ	fd+0(FP), DI
	MOVL	toSubmit+8(FP), SI
	MOVL	minComplete+12(FP), DX
	MOVL	flags+16(FP), R10
	MOVQ	arg+24(FP), R8
	MOVQ	argsz+32(FP), R9
	MOVQ	$SYS_io_uring_enter, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, n+40(FP)
	NEGQ	AX
	MOVQ	AX, errno+48(FP)
	RET
ok:
	MOVQ	AX, n+40(FP)
	MOVQ	$0, errno+48(FP)
	RET

// func IoUringRegister(fd int, opcode uint32, arg unsafe.Pointer, nrArgs uint32) (r int, errno syscall.Errno)
TEXT ·IoUringRegister(SB),NOSPLIT,$0-48
	MOVQ	fd+0(FP), DI
	MOVL	opcode+8(FP), SI
	MOVQ	arg+16(FP), DX
	MOVL	nrArgs+24(FP), R10
	MOVQ	$SYS_io_uring_register, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, r+32(FP)
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	AX, r+32(FP)
	MOVQ	$0, errno+40(FP)
	RET
