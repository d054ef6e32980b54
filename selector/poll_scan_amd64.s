//go:build linux && rawpoll_forcepoll

#include "textflag.h"

// func scanReventsAVX2(fds *rawsys.PollFd, n int) int
//
// Returns the index of the first pollfd whose revents is non-zero, or n.
// A pollfd is 8 bytes (fd int32, events int16, revents int16), so revents
// is the top 16 bits of each little-endian qword. Blocks of 16 entries
// (128 bytes, four 32-byte loads) are ORed together and tested against
// that mask with one VPTEST; the block that holds a set revents, and the
// last entries that do not fill a block, are finished one entry at a time.
// Pure computation: no calls, no stack, nothing for the scheduler.
TEXT ·scanReventsAVX2(SB),NOSPLIT,$0-24
	MOVQ	fds+0(FP), SI
	MOVQ	n+8(FP), CX
	XORQ	AX, AX
	MOVQ	$0xffff000000000000, DX
	MOVQ	DX, X0
	VPBROADCASTQ	X0, Y0

block:
	MOVQ	CX, DX
	SUBQ	AX, DX
	CMPQ	DX, $16
	JLT	tail
	VMOVDQU	0(SI)(AX*8), Y1
	VPOR	32(SI)(AX*8), Y1, Y1
	VMOVDQU	64(SI)(AX*8), Y2
	VPOR	96(SI)(AX*8), Y2, Y2
	VPOR	Y2, Y1, Y1
	VPTEST	Y0, Y1
	JNE	tail			// some revents in this block: find it below
	ADDQ	$16, AX
	JMP	block

tail:
	CMPQ	AX, CX
	JGE	none
	MOVWLZX	6(SI)(AX*8), DX
	TESTL	DX, DX
	JNE	done
	INCQ	AX
	JMP	tail

none:
	MOVQ	CX, AX
done:
	VZEROUPPER
	MOVQ	AX, ret+16(FP)
	RET
