//go:build darwin || openbsd

// Trampolines into libc for the socket calls darwin and OpenBSD share (see
// kevent_libc.s for the mechanism: symbols imported in sock_$GOOS.go
// without cgo, called through syscall.rawSyscall6 on the system stack; a
// JMP assembles the same on amd64 and arm64).

#include "textflag.h"

TEXT libc_read_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_read(SB)

GLOBL	·libc_read_trampoline_addr(SB), RODATA, $8
DATA	·libc_read_trampoline_addr(SB)/8, $libc_read_trampoline<>(SB)

TEXT libc_write_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_write(SB)

GLOBL	·libc_write_trampoline_addr(SB), RODATA, $8
DATA	·libc_write_trampoline_addr(SB)/8, $libc_write_trampoline<>(SB)

TEXT libc_connect_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_connect(SB)

GLOBL	·libc_connect_trampoline_addr(SB), RODATA, $8
DATA	·libc_connect_trampoline_addr(SB)/8, $libc_connect_trampoline<>(SB)

TEXT libc_readv_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_readv(SB)

GLOBL	·libc_readv_trampoline_addr(SB), RODATA, $8
DATA	·libc_readv_trampoline_addr(SB)/8, $libc_readv_trampoline<>(SB)

TEXT libc_writev_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_writev(SB)

GLOBL	·libc_writev_trampoline_addr(SB), RODATA, $8
DATA	·libc_writev_trampoline_addr(SB)/8, $libc_writev_trampoline<>(SB)

TEXT libc_recvfrom_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_recvfrom(SB)

GLOBL	·libc_recvfrom_trampoline_addr(SB), RODATA, $8
DATA	·libc_recvfrom_trampoline_addr(SB)/8, $libc_recvfrom_trampoline<>(SB)

TEXT libc_sendto_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_sendto(SB)

GLOBL	·libc_sendto_trampoline_addr(SB), RODATA, $8
DATA	·libc_sendto_trampoline_addr(SB)/8, $libc_sendto_trampoline<>(SB)

TEXT libc_recvmsg_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_recvmsg(SB)

GLOBL	·libc_recvmsg_trampoline_addr(SB), RODATA, $8
DATA	·libc_recvmsg_trampoline_addr(SB)/8, $libc_recvmsg_trampoline<>(SB)

TEXT libc_sendmsg_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_sendmsg(SB)

GLOBL	·libc_sendmsg_trampoline_addr(SB), RODATA, $8
DATA	·libc_sendmsg_trampoline_addr(SB)/8, $libc_sendmsg_trampoline<>(SB)

TEXT libc_shutdown_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_shutdown(SB)

GLOBL	·libc_shutdown_trampoline_addr(SB), RODATA, $8
DATA	·libc_shutdown_trampoline_addr(SB)/8, $libc_shutdown_trampoline<>(SB)

TEXT libc_close_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_close(SB)

GLOBL	·libc_close_trampoline_addr(SB), RODATA, $8
DATA	·libc_close_trampoline_addr(SB)/8, $libc_close_trampoline<>(SB)

TEXT libc_getsockopt_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_getsockopt(SB)

GLOBL	·libc_getsockopt_trampoline_addr(SB), RODATA, $8
DATA	·libc_getsockopt_trampoline_addr(SB)/8, $libc_getsockopt_trampoline<>(SB)

TEXT libc_setsockopt_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_setsockopt(SB)

GLOBL	·libc_setsockopt_trampoline_addr(SB), RODATA, $8
DATA	·libc_setsockopt_trampoline_addr(SB)/8, $libc_setsockopt_trampoline<>(SB)

TEXT libc_getsockname_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_getsockname(SB)

GLOBL	·libc_getsockname_trampoline_addr(SB), RODATA, $8
DATA	·libc_getsockname_trampoline_addr(SB)/8, $libc_getsockname_trampoline<>(SB)

TEXT libc_getpeername_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_getpeername(SB)

GLOBL	·libc_getpeername_trampoline_addr(SB), RODATA, $8
DATA	·libc_getpeername_trampoline_addr(SB)/8, $libc_getpeername_trampoline<>(SB)
