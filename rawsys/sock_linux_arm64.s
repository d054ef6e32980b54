// Raw Linux/arm64 socket system call stubs (see sock_linux.go). The
// conventions are those of epoll_linux_arm64.s: one SVC on the calling
// goroutine's stack, NOSPLIT with no frame, never a call into the runtime;
// number in R8, arguments in R0-R5, result in R0 where [-4095, -1] is
// -errno (CMN $4095, R0 sets carry exactly for that range). Stubs with a
// result return (-1, errno) on failure and (result, 0) on success.
// socklen_t arguments are 32-bit: MOVWU zero-extends them.
//
// Generated once from a table of the calls (numbers from
// include/uapi/asm-generic/unistd.h), then kept as is.

#include "textflag.h"

#define SYS_close		57
#define SYS_readv		65
#define SYS_writev		66
#define SYS_connect		203
#define SYS_getsockname		204
#define SYS_getpeername		205
#define SYS_sendto		206
#define SYS_recvfrom		207
#define SYS_setsockopt		208
#define SYS_getsockopt		209
#define SYS_shutdown		210
#define SYS_sendmsg		211
#define SYS_recvmsg		212
#define SYS_accept4		242
#define SYS_recvmmsg		243
#define SYS_sendmmsg		269

// func Accept4(fd int, sa *SockaddrStorage, salen *uint32, flags int) (nfd int, errno syscall.Errno)
TEXT ·Accept4(SB),NOSPLIT,$0-48
	MOVD	fd+0(FP), R0
	MOVD	sa+8(FP), R1
	MOVD	salen+16(FP), R2
	MOVD	flags+24(FP), R3
	MOVD	$SYS_accept4, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, nfd+32(FP)
	NEG	R0, R0
	MOVD	R0, errno+40(FP)
	RET
ok:
	MOVD	R0, nfd+32(FP)
	MOVD	ZR, errno+40(FP)
	RET

// func Connect(fd int, sa *SockaddrStorage, salen uint32) (errno syscall.Errno)
TEXT ·Connect(SB),NOSPLIT,$0-32
	MOVD	fd+0(FP), R0
	MOVD	sa+8(FP), R1
	MOVWU	salen+16(FP), R2
	MOVD	$SYS_connect, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	NEG	R0, R0
	MOVD	R0, errno+24(FP)
	RET
ok:
	MOVD	ZR, errno+24(FP)
	RET

// func Readv(fd int, iov []Iovec) (n int, errno syscall.Errno)
TEXT ·Readv(SB),NOSPLIT,$0-48
	MOVD	fd+0(FP), R0
	MOVD	iov_base+8(FP), R1
	MOVD	iov_len+16(FP), R2
	MOVD	$SYS_readv, R8
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

// func Writev(fd int, iov []Iovec) (n int, errno syscall.Errno)
TEXT ·Writev(SB),NOSPLIT,$0-48
	MOVD	fd+0(FP), R0
	MOVD	iov_base+8(FP), R1
	MOVD	iov_len+16(FP), R2
	MOVD	$SYS_writev, R8
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

// func Recvfrom(fd int, p []byte, flags int, from *SockaddrStorage, fromlen *uint32) (n int, errno syscall.Errno)
TEXT ·Recvfrom(SB),NOSPLIT,$0-72
	MOVD	fd+0(FP), R0
	MOVD	p_base+8(FP), R1
	MOVD	p_len+16(FP), R2
	MOVD	flags+32(FP), R3
	MOVD	from+40(FP), R4
	MOVD	fromlen+48(FP), R5
	MOVD	$SYS_recvfrom, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, n+56(FP)
	NEG	R0, R0
	MOVD	R0, errno+64(FP)
	RET
ok:
	MOVD	R0, n+56(FP)
	MOVD	ZR, errno+64(FP)
	RET

// func Sendto(fd int, p []byte, flags int, to *SockaddrStorage, tolen uint32) (n int, errno syscall.Errno)
TEXT ·Sendto(SB),NOSPLIT,$0-72
	MOVD	fd+0(FP), R0
	MOVD	p_base+8(FP), R1
	MOVD	p_len+16(FP), R2
	MOVD	flags+32(FP), R3
	MOVD	to+40(FP), R4
	MOVWU	tolen+48(FP), R5
	MOVD	$SYS_sendto, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R1
	MOVD	R1, n+56(FP)
	NEG	R0, R0
	MOVD	R0, errno+64(FP)
	RET
ok:
	MOVD	R0, n+56(FP)
	MOVD	ZR, errno+64(FP)
	RET

// func Recvmsg(fd int, msg *Msghdr, flags int) (n int, errno syscall.Errno)
TEXT ·Recvmsg(SB),NOSPLIT,$0-40
	MOVD	fd+0(FP), R0
	MOVD	msg+8(FP), R1
	MOVD	flags+16(FP), R2
	MOVD	$SYS_recvmsg, R8
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

// func Sendmsg(fd int, msg *Msghdr, flags int) (n int, errno syscall.Errno)
TEXT ·Sendmsg(SB),NOSPLIT,$0-40
	MOVD	fd+0(FP), R0
	MOVD	msg+8(FP), R1
	MOVD	flags+16(FP), R2
	MOVD	$SYS_sendmsg, R8
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

// func Recvmmsg(fd int, msgs []Mmsghdr, flags int) (n int, errno syscall.Errno)
TEXT ·Recvmmsg(SB),NOSPLIT,$0-56
	MOVD	fd+0(FP), R0
	MOVD	msgs_base+8(FP), R1
	MOVD	msgs_len+16(FP), R2
	MOVD	flags+32(FP), R3
	MOVD	ZR, R4		// timeout: NULL
	MOVD	$SYS_recvmmsg, R8
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

// func Sendmmsg(fd int, msgs []Mmsghdr, flags int) (n int, errno syscall.Errno)
TEXT ·Sendmmsg(SB),NOSPLIT,$0-56
	MOVD	fd+0(FP), R0
	MOVD	msgs_base+8(FP), R1
	MOVD	msgs_len+16(FP), R2
	MOVD	flags+32(FP), R3
	MOVD	$SYS_sendmmsg, R8
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

// func Shutdown(fd int, how int) (errno syscall.Errno)
TEXT ·Shutdown(SB),NOSPLIT,$0-24
	MOVD	fd+0(FP), R0
	MOVD	how+8(FP), R1
	MOVD	$SYS_shutdown, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	NEG	R0, R0
	MOVD	R0, errno+16(FP)
	RET
ok:
	MOVD	ZR, errno+16(FP)
	RET

// func Close(fd int) (errno syscall.Errno)
TEXT ·Close(SB),NOSPLIT,$0-16
	MOVD	fd+0(FP), R0
	MOVD	$SYS_close, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	NEG	R0, R0
	MOVD	R0, errno+8(FP)
	RET
ok:
	MOVD	ZR, errno+8(FP)
	RET

// func Getsockopt(fd int, level int, name int, val unsafe.Pointer, vallen *uint32) (errno syscall.Errno)
TEXT ·Getsockopt(SB),NOSPLIT,$0-48
	MOVD	fd+0(FP), R0
	MOVD	level+8(FP), R1
	MOVD	name+16(FP), R2
	MOVD	val+24(FP), R3
	MOVD	vallen+32(FP), R4
	MOVD	$SYS_getsockopt, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	NEG	R0, R0
	MOVD	R0, errno+40(FP)
	RET
ok:
	MOVD	ZR, errno+40(FP)
	RET

// func Setsockopt(fd int, level int, name int, val unsafe.Pointer, vallen uint32) (errno syscall.Errno)
TEXT ·Setsockopt(SB),NOSPLIT,$0-48
	MOVD	fd+0(FP), R0
	MOVD	level+8(FP), R1
	MOVD	name+16(FP), R2
	MOVD	val+24(FP), R3
	MOVWU	vallen+32(FP), R4
	MOVD	$SYS_setsockopt, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	NEG	R0, R0
	MOVD	R0, errno+40(FP)
	RET
ok:
	MOVD	ZR, errno+40(FP)
	RET

// func Getsockname(fd int, sa *SockaddrStorage, salen *uint32) (errno syscall.Errno)
TEXT ·Getsockname(SB),NOSPLIT,$0-32
	MOVD	fd+0(FP), R0
	MOVD	sa+8(FP), R1
	MOVD	salen+16(FP), R2
	MOVD	$SYS_getsockname, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	NEG	R0, R0
	MOVD	R0, errno+24(FP)
	RET
ok:
	MOVD	ZR, errno+24(FP)
	RET

// func Getpeername(fd int, sa *SockaddrStorage, salen *uint32) (errno syscall.Errno)
TEXT ·Getpeername(SB),NOSPLIT,$0-32
	MOVD	fd+0(FP), R0
	MOVD	sa+8(FP), R1
	MOVD	salen+16(FP), R2
	MOVD	$SYS_getpeername, R8
	SVC
	CMN	$4095, R0
	BCC	ok
	NEG	R0, R0
	MOVD	R0, errno+24(FP)
	RET
ok:
	MOVD	ZR, errno+24(FP)
	RET
