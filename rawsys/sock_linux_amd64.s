// Raw Linux/amd64 socket system call stubs (see sock_linux.go). The
// conventions are those of epoll_linux_amd64.s: one SYSCALL on the calling
// goroutine's stack, NOSPLIT with no frame, never a call into the runtime;
// number in AX, arguments in DI, SI, DX, R10, R8, R9; a result in
// [-4095, -1] is -errno. Stubs with a result return (-1, errno) on failure
// and (result, 0) on success. socklen_t arguments are 32-bit: MOVL
// zero-extends them.
//
// Generated once from a table of the calls (numbers from
// arch/x86/entry/syscalls/syscall_64.tbl), then kept as is.

#include "textflag.h"

#define SYS_close		3
#define SYS_readv		19
#define SYS_writev		20
#define SYS_connect		42
#define SYS_sendto		44
#define SYS_recvfrom		45
#define SYS_sendmsg		46
#define SYS_recvmsg		47
#define SYS_shutdown		48
#define SYS_getsockname		51
#define SYS_getpeername		52
#define SYS_setsockopt		54
#define SYS_getsockopt		55
#define SYS_accept4		288
#define SYS_recvmmsg		299
#define SYS_sendmmsg		307

// func Accept4(fd int, sa *SockaddrStorage, salen *uint32, flags int) (nfd int, errno syscall.Errno)
TEXT ·Accept4(SB),NOSPLIT,$0-48
	MOVQ	fd+0(FP), DI
	MOVQ	sa+8(FP), SI
	MOVQ	salen+16(FP), DX
	MOVQ	flags+24(FP), R10
	MOVQ	$SYS_accept4, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, nfd+32(FP)
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	AX, nfd+32(FP)
	MOVQ	$0, errno+40(FP)
	RET

// func Connect(fd int, sa *SockaddrStorage, salen uint32) (errno syscall.Errno)
TEXT ·Connect(SB),NOSPLIT,$0-32
	MOVQ	fd+0(FP), DI
	MOVQ	sa+8(FP), SI
	MOVL	salen+16(FP), DX
	MOVQ	$SYS_connect, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+24(FP)
	RET
ok:
	MOVQ	$0, errno+24(FP)
	RET

// func Readv(fd int, iov []Iovec) (n int, errno syscall.Errno)
TEXT ·Readv(SB),NOSPLIT,$0-48
	MOVQ	fd+0(FP), DI
	MOVQ	iov_base+8(FP), SI
	MOVQ	iov_len+16(FP), DX
	MOVQ	$SYS_readv, AX
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

// func Writev(fd int, iov []Iovec) (n int, errno syscall.Errno)
TEXT ·Writev(SB),NOSPLIT,$0-48
	MOVQ	fd+0(FP), DI
	MOVQ	iov_base+8(FP), SI
	MOVQ	iov_len+16(FP), DX
	MOVQ	$SYS_writev, AX
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

// func Recvfrom(fd int, p []byte, flags int, from *SockaddrStorage, fromlen *uint32) (n int, errno syscall.Errno)
TEXT ·Recvfrom(SB),NOSPLIT,$0-72
	MOVQ	fd+0(FP), DI
	MOVQ	p_base+8(FP), SI
	MOVQ	p_len+16(FP), DX
	MOVQ	flags+32(FP), R10
	MOVQ	from+40(FP), R8
	MOVQ	fromlen+48(FP), R9
	MOVQ	$SYS_recvfrom, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, n+56(FP)
	NEGQ	AX
	MOVQ	AX, errno+64(FP)
	RET
ok:
	MOVQ	AX, n+56(FP)
	MOVQ	$0, errno+64(FP)
	RET

// func Sendto(fd int, p []byte, flags int, to *SockaddrStorage, tolen uint32) (n int, errno syscall.Errno)
TEXT ·Sendto(SB),NOSPLIT,$0-72
	MOVQ	fd+0(FP), DI
	MOVQ	p_base+8(FP), SI
	MOVQ	p_len+16(FP), DX
	MOVQ	flags+32(FP), R10
	MOVQ	to+40(FP), R8
	MOVL	tolen+48(FP), R9
	MOVQ	$SYS_sendto, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, n+56(FP)
	NEGQ	AX
	MOVQ	AX, errno+64(FP)
	RET
ok:
	MOVQ	AX, n+56(FP)
	MOVQ	$0, errno+64(FP)
	RET

// func Recvmsg(fd int, msg *Msghdr, flags int) (n int, errno syscall.Errno)
TEXT ·Recvmsg(SB),NOSPLIT,$0-40
	MOVQ	fd+0(FP), DI
	MOVQ	msg+8(FP), SI
	MOVQ	flags+16(FP), DX
	MOVQ	$SYS_recvmsg, AX
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

// func Sendmsg(fd int, msg *Msghdr, flags int) (n int, errno syscall.Errno)
TEXT ·Sendmsg(SB),NOSPLIT,$0-40
	MOVQ	fd+0(FP), DI
	MOVQ	msg+8(FP), SI
	MOVQ	flags+16(FP), DX
	MOVQ	$SYS_sendmsg, AX
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

// func Recvmmsg(fd int, msgs []Mmsghdr, flags int) (n int, errno syscall.Errno)
TEXT ·Recvmmsg(SB),NOSPLIT,$0-56
	MOVQ	fd+0(FP), DI
	MOVQ	msgs_base+8(FP), SI
	MOVQ	msgs_len+16(FP), DX
	MOVQ	flags+32(FP), R10
	XORQ	R8, R8		// timeout: NULL
	MOVQ	$SYS_recvmmsg, AX
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

// func Sendmmsg(fd int, msgs []Mmsghdr, flags int) (n int, errno syscall.Errno)
TEXT ·Sendmmsg(SB),NOSPLIT,$0-56
	MOVQ	fd+0(FP), DI
	MOVQ	msgs_base+8(FP), SI
	MOVQ	msgs_len+16(FP), DX
	MOVQ	flags+32(FP), R10
	MOVQ	$SYS_sendmmsg, AX
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

// func Shutdown(fd int, how int) (errno syscall.Errno)
TEXT ·Shutdown(SB),NOSPLIT,$0-24
	MOVQ	fd+0(FP), DI
	MOVQ	how+8(FP), SI
	MOVQ	$SYS_shutdown, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+16(FP)
	RET
ok:
	MOVQ	$0, errno+16(FP)
	RET

// func Close(fd int) (errno syscall.Errno)
TEXT ·Close(SB),NOSPLIT,$0-16
	MOVQ	fd+0(FP), DI
	MOVQ	$SYS_close, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+8(FP)
	RET
ok:
	MOVQ	$0, errno+8(FP)
	RET

// func Getsockopt(fd int, level int, name int, val unsafe.Pointer, vallen *uint32) (errno syscall.Errno)
TEXT ·Getsockopt(SB),NOSPLIT,$0-48
	MOVQ	fd+0(FP), DI
	MOVQ	level+8(FP), SI
	MOVQ	name+16(FP), DX
	MOVQ	val+24(FP), R10
	MOVQ	vallen+32(FP), R8
	MOVQ	$SYS_getsockopt, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	$0, errno+40(FP)
	RET

// func Setsockopt(fd int, level int, name int, val unsafe.Pointer, vallen uint32) (errno syscall.Errno)
TEXT ·Setsockopt(SB),NOSPLIT,$0-48
	MOVQ	fd+0(FP), DI
	MOVQ	level+8(FP), SI
	MOVQ	name+16(FP), DX
	MOVQ	val+24(FP), R10
	MOVL	vallen+32(FP), R8
	MOVQ	$SYS_setsockopt, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	$0, errno+40(FP)
	RET

// func Getsockname(fd int, sa *SockaddrStorage, salen *uint32) (errno syscall.Errno)
TEXT ·Getsockname(SB),NOSPLIT,$0-32
	MOVQ	fd+0(FP), DI
	MOVQ	sa+8(FP), SI
	MOVQ	salen+16(FP), DX
	MOVQ	$SYS_getsockname, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+24(FP)
	RET
ok:
	MOVQ	$0, errno+24(FP)
	RET

// func Getpeername(fd int, sa *SockaddrStorage, salen *uint32) (errno syscall.Errno)
TEXT ·Getpeername(SB),NOSPLIT,$0-32
	MOVQ	fd+0(FP), DI
	MOVQ	sa+8(FP), SI
	MOVQ	salen+16(FP), DX
	MOVQ	$SYS_getpeername, AX
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, errno+24(FP)
	RET
ok:
	MOVQ	$0, errno+24(FP)
	RET
