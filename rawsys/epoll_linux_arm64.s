// Raw Linux/arm64 system call stubs. Each is one SVC on the calling
// goroutine's stack, NOSPLIT with no frame: it never calls into the
// runtime, so it never tells the scheduler anything. The blocking forms in
// epoll_linux.go bracket these with entersyscall/exitsyscall.
//
// arm64 has no epoll_wait and no poll: epoll_pwait and ppoll with a NULL
// signal mask are the same calls (include/uapi/asm-generic/unistd.h).
//
// Kernel convention: number in R8; arguments in R0-R5; result in R0, where
// [-4095, -1] is -errno. CMN $4095, R0 sets carry exactly for that range.
// Every stub returns (-1, errno) on failure and (result, 0) on success.
//
// epoll_pwait, epoll_pwait2 and ppoll get a NULL signal mask and no
// sigsetsize: the kernel reads the size only along with a mask
// (set_user_sigmask in kernel/signal.c returns at once for a NULL one), so
// the register is left as it is, one instruction less per call.

#include "textflag.h"

#define SYS_eventfd2		19
#define SYS_epoll_create1	20
#define SYS_epoll_ctl		21
#define SYS_epoll_pwait		22
#define SYS_ioctl		29
#define SYS_read		63
#define SYS_write		64
#define SYS_ppoll		73
#define SYS_epoll_pwait2	441

// func EpollCreate1(flags int) (fd int, errno syscall.Errno)
TEXT ·EpollCreate1(SB),NOSPLIT,$0-24
	MOVD	flags+0(FP), R0
	MOVD	$SYS_epoll_create1, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, fd+8(FP)
	NEG	R0, R0
	MOVD	R0, errno+16(FP)
	RET
ok:
	MOVD	R0, fd+8(FP)
	MOVD	ZR, errno+16(FP)
	RET

// func EpollCtl(epfd int, op int, fd int, event *EpollEvent) (errno syscall.Errno)
TEXT ·EpollCtl(SB),NOSPLIT,$0-40
	MOVD	epfd+0(FP), R0
	MOVD	op+8(FP), R1
	MOVD	fd+16(FP), R2
	MOVD	event+24(FP), R3
	MOVD	$SYS_epoll_ctl, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	NEG	R0, R0
	MOVD	R0, errno+32(FP)
	RET
ok:
	MOVD	ZR, errno+32(FP)
	RET

// func EpollPwaitRaw(epfd int, events *EpollEvent, maxevents int, msec int) (n int, errno syscall.Errno)
TEXT ·EpollPwaitRaw(SB),NOSPLIT,$0-48
	MOVD	epfd+0(FP), R0
	MOVD	events+8(FP), R1
	MOVD	maxevents+16(FP), R2
	MOVD	msec+24(FP), R3
	MOVD	ZR, R4			// sigmask: NULL, keep the thread's mask
	MOVD	$SYS_epoll_pwait, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, n+32(FP)
	NEG	R0, R0
	MOVD	R0, errno+40(FP)
	RET
ok:
	MOVD	R0, n+32(FP)
	MOVD	ZR, errno+40(FP)
	RET

// func EpollPwait2Raw(epfd int, events *EpollEvent, maxevents int, timeout *Timespec) (n int, errno syscall.Errno)
TEXT ·EpollPwait2Raw(SB),NOSPLIT,$0-48
	MOVD	epfd+0(FP), R0
	MOVD	events+8(FP), R1
	MOVD	maxevents+16(FP), R2
	MOVD	timeout+24(FP), R3
	MOVD	ZR, R4
	MOVD	$SYS_epoll_pwait2, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, n+32(FP)
	NEG	R0, R0
	MOVD	R0, errno+40(FP)
	RET
ok:
	MOVD	R0, n+32(FP)
	MOVD	ZR, errno+40(FP)
	RET

// func Eventfd2(initval uint, flags int) (fd int, errno syscall.Errno)
TEXT ·Eventfd2(SB),NOSPLIT,$0-32
	MOVD	initval+0(FP), R0
	MOVD	flags+8(FP), R1
	MOVD	$SYS_eventfd2, R8
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

// func PpollRaw(fds *PollFd, nfds int, timeout *Timespec) (n int, errno syscall.Errno)
TEXT ·PpollRaw(SB),NOSPLIT,$0-40
	MOVD	fds+0(FP), R0
	MOVD	nfds+8(FP), R1
	MOVD	timeout+16(FP), R2
	MOVD	ZR, R3			// sigmask: NULL
	MOVD	$SYS_ppoll, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, n+24(FP)
	NEG	R0, R0
	MOVD	R0, errno+32(FP)
	RET
ok:
	MOVD	R0, n+24(FP)
	MOVD	ZR, errno+32(FP)
	RET

// func Read(fd int, p []byte) (n int, errno syscall.Errno)
TEXT ·Read(SB),NOSPLIT,$0-48
	MOVD	fd+0(FP), R0
	MOVD	p_base+8(FP), R1
	MOVD	p_len+16(FP), R2
	MOVD	$SYS_read, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, n+32(FP)
	NEG	R0, R0
	MOVD	R0, errno+40(FP)
	RET
ok:
	MOVD	R0, n+32(FP)
	MOVD	ZR, errno+40(FP)
	RET

// func Write(fd int, p []byte) (n int, errno syscall.Errno)
TEXT ·Write(SB),NOSPLIT,$0-48
	MOVD	fd+0(FP), R0
	MOVD	p_base+8(FP), R1
	MOVD	p_len+16(FP), R2
	MOVD	$SYS_write, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, n+32(FP)
	NEG	R0, R0
	MOVD	R0, errno+40(FP)
	RET
ok:
	MOVD	R0, n+32(FP)
	MOVD	ZR, errno+40(FP)
	RET

// func Ioctl(fd int, req uint, arg unsafe.Pointer) (r int, errno syscall.Errno)
TEXT ·Ioctl(SB),NOSPLIT,$0-40
	MOVD	fd+0(FP), R0
	MOVD	req+8(FP), R1
	MOVD	arg+16(FP), R2
	MOVD	$SYS_ioctl, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, r+24(FP)
	NEG	R0, R0
	MOVD	R0, errno+32(FP)
	RET
ok:
	MOVD	R0, r+24(FP)
	MOVD	ZR, errno+32(FP)
	RET
