// Raw Linux/amd64 system call stubs. Each is one SYSCALL on the calling
// goroutine's stack, NOSPLIT with no frame: it never calls into the
// runtime, so it never tells the scheduler anything. The blocking forms in
// epoll_linux.go bracket these with entersyscall/exitsyscall.
//
// Kernel convention: number in AX; arguments in DI, SI, DX, R10, R8, R9;
// SYSCALL clobbers CX and R11; a result in [-4095, -1] is -errno. Every stub
// returns (-1, errno) on failure and (result, 0) on success.
//
// epoll_pwait, epoll_pwait2 and ppoll get a NULL signal mask and no
// sigsetsize: the kernel reads the size only along with a mask
// (set_user_sigmask in kernel/signal.c returns at once for a NULL one), so
// the register is left as it is, one instruction less per call.

#include "textflag.h"

#define SYS_read		0
#define SYS_write		1
#define SYS_ioctl		16
#define SYS_ppoll		271
#define SYS_epoll_ctl		233
#define SYS_epoll_pwait		281
#define SYS_eventfd2		290
#define SYS_epoll_create1	291
#define SYS_epoll_pwait2	441

// func EpollCreate1(flags int) (fd int, errno syscall.Errno)
TEXT ·EpollCreate1(SB),NOSPLIT,$0-24
	MOVQ	flags+0(FP), DI
	MOVQ	$SYS_epoll_create1, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, fd+8(FP)
	NEGQ	AX
	MOVQ	AX, errno+16(FP)
	RET
ok:
	MOVQ	AX, fd+8(FP)
	MOVQ	$0, errno+16(FP)
	RET

// func EpollCtl(epfd int, op int, fd int, event *EpollEvent) (errno syscall.Errno)
TEXT ·EpollCtl(SB),NOSPLIT,$0-40
	MOVQ	epfd+0(FP), DI
	MOVQ	op+8(FP), SI
	MOVQ	fd+16(FP), DX
	MOVQ	event+24(FP), R10
	MOVQ	$SYS_epoll_ctl, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+32(FP)
	RET
ok:
	MOVQ	$0, errno+32(FP)
	RET

// func EpollPwaitRaw(epfd int, events *EpollEvent, maxevents int, msec int) (n int, errno syscall.Errno)
TEXT ·EpollPwaitRaw(SB),NOSPLIT,$0-48
	MOVQ	epfd+0(FP), DI
	MOVQ	events+8(FP), SI
	MOVQ	maxevents+16(FP), DX
	MOVQ	msec+24(FP), R10
	XORQ	R8, R8			// sigmask: NULL, keep the thread's mask
	MOVQ	$SYS_epoll_pwait, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, n+32(FP)
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	AX, n+32(FP)
	MOVQ	$0, errno+40(FP)
	RET

// func EpollPwait2Raw(epfd int, events *EpollEvent, maxevents int, timeout *Timespec) (n int, errno syscall.Errno)
TEXT ·EpollPwait2Raw(SB),NOSPLIT,$0-48
	MOVQ	epfd+0(FP), DI
	MOVQ	events+8(FP), SI
	MOVQ	maxevents+16(FP), DX
	MOVQ	timeout+24(FP), R10
	XORQ	R8, R8			// sigmask: NULL
	MOVQ	$SYS_epoll_pwait2, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, n+32(FP)
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	AX, n+32(FP)
	MOVQ	$0, errno+40(FP)
	RET

// func Eventfd2(initval uint, flags int) (fd int, errno syscall.Errno)
TEXT ·Eventfd2(SB),NOSPLIT,$0-32
	MOVQ	initval+0(FP), DI
	MOVQ	flags+8(FP), SI
	MOVQ	$SYS_eventfd2, AX
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

// func PpollRaw(fds *PollFd, nfds int, timeout *Timespec) (n int, errno syscall.Errno)
TEXT ·PpollRaw(SB),NOSPLIT,$0-40
	MOVQ	fds+0(FP), DI
	MOVQ	nfds+8(FP), SI
	MOVQ	timeout+16(FP), DX
	XORQ	R10, R10		// sigmask: NULL
	MOVQ	$SYS_ppoll, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, n+24(FP)
	NEGQ	AX
	MOVQ	AX, errno+32(FP)
	RET
ok:
	MOVQ	AX, n+24(FP)
	MOVQ	$0, errno+32(FP)
	RET

// func Read(fd int, p []byte) (n int, errno syscall.Errno)
TEXT ·Read(SB),NOSPLIT,$0-48
	MOVQ	fd+0(FP), DI
	MOVQ	p_base+8(FP), SI
	MOVQ	p_len+16(FP), DX
	MOVQ	$SYS_read, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, n+32(FP)
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	AX, n+32(FP)
	MOVQ	$0, errno+40(FP)
	RET

// func Write(fd int, p []byte) (n int, errno syscall.Errno)
TEXT ·Write(SB),NOSPLIT,$0-48
	MOVQ	fd+0(FP), DI
	MOVQ	p_base+8(FP), SI
	MOVQ	p_len+16(FP), DX
	MOVQ	$SYS_write, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, n+32(FP)
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	AX, n+32(FP)
	MOVQ	$0, errno+40(FP)
	RET

// func Ioctl(fd int, req uint, arg unsafe.Pointer) (r int, errno syscall.Errno)
TEXT ·Ioctl(SB),NOSPLIT,$0-40
	MOVQ	fd+0(FP), DI
	MOVQ	req+8(FP), SI
	MOVQ	arg+16(FP), DX
	MOVQ	$SYS_ioctl, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, r+24(FP)
	NEGQ	AX
	MOVQ	AX, errno+32(FP)
	RET
ok:
	MOVQ	AX, r+24(FP)
	MOVQ	$0, errno+32(FP)
	RET
