//go:build amd64 || arm64

package rawsys

import "unsafe"

// SQE builders, for an SQE that GetSqe returned zeroed: each sets the
// opcode and the fields that opcode reads, and leaves UserData (and Flags,
// the IOSQE_* bits) to the caller. The kernel refuses with EINVAL an SQE
// with a field set that the opcode does not use (io_poll_add_prep,
// io_poll_remove_prep in io_uring/poll.c), which is why GetSqe zeroes.

// PrepNop makes s an IORING_OP_NOP: it completes at once with res 0.
func (s *IoUringSqe) PrepNop() { s.Opcode = IORING_OP_NOP }

// PrepPollAdd makes s an IORING_OP_POLL_ADD of fd for the poll mask events
// (POLLIN, POLLOUT, POLLRDHUP, ...; the kernel always adds POLLERR and
// POLLHUP). flags is IORING_POLL_ADD_MULTI for a multishot poll, which
// posts a completion with IORING_CQE_F_MORE on every wake-up whose mask
// matches, until it is removed or the kernel ends it (a final completion
// without IORING_CQE_F_MORE: removal, cancellation, or a full CQ ring);
// without it the poll posts once. The kernel treats the poll as
// edge-triggered unless IORING_POLL_ADD_LEVEL (6.0+) is given. Completion
// res is the ready mask, or -errno.
func (s *IoUringSqe) PrepPollAdd(fd int, events uint32, flags uint32) {
	s.Opcode = IORING_OP_POLL_ADD
	s.Fd = int32(fd)
	s.OpFlags = events
	s.Len = flags
}

// PrepPollUpdate makes s an IORING_OP_POLL_REMOVE that updates, in place,
// the poll request whose user data is oldUserData: flags holds
// IORING_POLL_UPDATE_EVENTS (events becomes its mask) and/or
// IORING_POLL_UPDATE_USER_DATA (newUserData becomes its user data), plus
// IORING_POLL_ADD_MULTI as for the original. The update itself completes
// with res 0, or -ENOENT when no such poll is armed; the updated poll keeps
// posting under its new user data. Unused arguments must be zero.
func (s *IoUringSqe) PrepPollUpdate(oldUserData, newUserData uint64, events uint32, flags uint32) {
	s.Opcode = IORING_OP_POLL_REMOVE
	s.Fd = -1
	s.Addr = oldUserData
	s.Off = newUserData
	s.OpFlags = events
	s.Len = flags
}

// PrepPollRemove makes s an IORING_OP_POLL_REMOVE of the poll request
// whose user data is userData. The removal completes with res 0 (or
// -ENOENT, -EALREADY), and the removed poll posts its last completion,
// res -ECANCELED without IORING_CQE_F_MORE.
func (s *IoUringSqe) PrepPollRemove(userData uint64) {
	s.Opcode = IORING_OP_POLL_REMOVE
	s.Fd = -1
	s.Addr = userData
}

// PrepCancel makes s an IORING_OP_ASYNC_CANCEL of the request whose user
// data is userData (flags: IORING_ASYNC_CANCEL_*, 0 for one request by
// user data). It completes with res 0, -ENOENT or -EALREADY; the cancelled
// request completes with -ECANCELED.
func (s *IoUringSqe) PrepCancel(userData uint64, flags uint32) {
	s.Opcode = IORING_OP_ASYNC_CANCEL
	s.Fd = -1
	s.Addr = userData
	s.OpFlags = flags
}

// PrepCancelFd makes s an IORING_OP_ASYNC_CANCEL of the requests on fd
// (IORING_ASYNC_CANCEL_FD is added to flags; add IORING_ASYNC_CANCEL_ALL
// for all of them, 5.19+). res is the number cancelled with _ALL.
func (s *IoUringSqe) PrepCancelFd(fd int, flags uint32) {
	s.Opcode = IORING_OP_ASYNC_CANCEL
	s.Fd = int32(fd)
	s.OpFlags = flags | IORING_ASYNC_CANCEL_FD
}

// PrepSend makes s an IORING_OP_SEND of p on socket fd with the send(2)
// flags msgFlags. The kernel reads p when it issues the send, which may be
// after the submitting call has returned (a socket that was full is sent
// to when it drains), so p belongs to the kernel until the completion
// arrives: keep it reachable and unmodified until then. PrepSend makes p's
// backing array escape to the heap, so that it cannot be on a goroutine
// stack, which may move.
func (s *IoUringSqe) PrepSend(fd int, p []byte, msgFlags uint32) {
	s.Opcode = IORING_OP_SEND
	s.Fd = int32(fd)
	s.Addr = uint64(bufAddr(p))
	s.Len = uint32(len(p))
	s.OpFlags = msgFlags
}

// PrepRecv makes s an IORING_OP_RECV into p from socket fd with the
// recv(2) flags msgFlags. p belongs to the kernel until the completion
// arrives, as for PrepSend: the kernel writes into it when data comes.
func (s *IoUringSqe) PrepRecv(fd int, p []byte, msgFlags uint32) {
	s.Opcode = IORING_OP_RECV
	s.Fd = int32(fd)
	s.Addr = uint64(bufAddr(p))
	s.Len = uint32(len(p))
	s.OpFlags = msgFlags
}

// PrepRecvProvided makes s an IORING_OP_RECV from socket fd into a buffer
// the kernel picks from the provided-buffer group bgid (IOSQE_BUFFER_SELECT;
// the completion carries IORING_CQE_F_BUFFER and the buffer's ID, see
// IoUringCqe.BufferID). With multishot (IORING_RECV_MULTISHOT, 6.0+) the
// receive stays armed and posts a completion with IORING_CQE_F_MORE for
// every chunk.
func (s *IoUringSqe) PrepRecvProvided(fd int, bgid uint16, msgFlags uint32, multishot bool) {
	s.Opcode = IORING_OP_RECV
	s.Fd = int32(fd)
	s.Flags |= IOSQE_BUFFER_SELECT
	s.BufIndex = bgid
	s.OpFlags = msgFlags
	if multishot {
		s.Ioprio |= IORING_RECV_MULTISHOT
	}
}

// bufAddr returns the address of p's first byte (0 for an empty p) and
// makes p escape: escape analysis is flow-insensitive, so the store to
// escapeSink, never executed, still puts every buffer passed here on the
// heap, where Go never moves memory.
func bufAddr(p []byte) uintptr {
	if len(p) == 0 {
		return 0
	}
	if escapeSink.enabled {
		escapeSink.p = unsafe.Pointer(&p[0])
	}
	return uintptr(unsafe.Pointer(&p[0]))
}

// escapeSink is never written (enabled stays false); see bufAddr.
var escapeSink struct {
	enabled bool
	p       unsafe.Pointer
}
