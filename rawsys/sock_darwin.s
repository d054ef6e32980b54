// Trampolines for darwin's accept and fcntl (see sock_libc.s).

#include "textflag.h"

TEXT libc_accept_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_accept(SB)

GLOBL	·libc_accept_trampoline_addr(SB), RODATA, $8
DATA	·libc_accept_trampoline_addr(SB)/8, $libc_accept_trampoline<>(SB)

TEXT libc_fcntl_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_fcntl(SB)

GLOBL	·libc_fcntl_trampoline_addr(SB), RODATA, $8
DATA	·libc_fcntl_trampoline_addr(SB)/8, $libc_fcntl_trampoline<>(SB)
