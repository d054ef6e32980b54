// Trampolines for OpenBSD's accept4, recvmmsg and sendmmsg (see
// sock_libc.s).

#include "textflag.h"

TEXT libc_accept4_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_accept4(SB)

GLOBL	·libc_accept4_trampoline_addr(SB), RODATA, $8
DATA	·libc_accept4_trampoline_addr(SB)/8, $libc_accept4_trampoline<>(SB)

TEXT libc_recvmmsg_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_recvmmsg(SB)

GLOBL	·libc_recvmmsg_trampoline_addr(SB), RODATA, $8
DATA	·libc_recvmmsg_trampoline_addr(SB)/8, $libc_recvmmsg_trampoline<>(SB)

TEXT libc_sendmmsg_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_sendmmsg(SB)

GLOBL	·libc_sendmmsg_trampoline_addr(SB), RODATA, $8
DATA	·libc_sendmmsg_trampoline_addr(SB)/8, $libc_sendmmsg_trampoline<>(SB)
