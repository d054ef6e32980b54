//go:build linux && rawpoll_forcepoll

#include "textflag.h"

// func scanReventsNEON(fds *rawsys.PollFd, n int) int
//
// Returns the index of the first pollfd whose revents is non-zero, or n.
// revents is the top 16 bits of each 8-byte little-endian pollfd. Blocks
// of 8 entries (64 bytes, one four-register VLD1) are ORed together,
// masked, and moved to two general registers; the block that holds a set
// revents, and the entries that do not fill a block, are finished one
// entry at a time. Pure computation: no calls, no stack.
TEXT ·scanReventsNEON(SB),NOSPLIT,$0-24
	MOVD	fds+0(FP), R0
	MOVD	n+8(FP), R1
	MOVD	$0, R2
	MOVD	$0xffff000000000000, R3
	VDUP	R3, V0.D2

block:
	SUB	R2, R1, R4
	CMP	$8, R4
	BLT	tail
	ADD	R2<<3, R0, R5
	VLD1	(R5), [V1.B16, V2.B16, V3.B16, V4.B16]
	VORR	V1.B16, V2.B16, V1.B16
	VORR	V3.B16, V4.B16, V3.B16
	VORR	V1.B16, V3.B16, V1.B16
	VAND	V0.B16, V1.B16, V1.B16
	VMOV	V1.D[0], R6
	VMOV	V1.D[1], R7
	ORR	R6, R7, R6
	CBNZ	R6, tail		// some revents in this block: find it below
	ADD	$8, R2
	B	block

tail:
	CMP	R1, R2
	BGE	none
	ADD	R2<<3, R0, R5
	MOVHU	6(R5), R6
	CBNZ	R6, done
	ADD	$1, R2
	B	tail

none:
	MOVD	R1, R2
done:
	MOVD	R2, ret+16(FP)
	RET
