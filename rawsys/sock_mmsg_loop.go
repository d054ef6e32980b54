//go:build darwin || dragonfly || freebsd

package rawsys

import "syscall"

// Recvmmsg receives up to len(msgs) messages, one Recvmsg each: darwin
// and DragonFly have no recvmmsg, and FreeBSD's is a libc loop of the same
// kind (lib/libc/gen/recvmmsg.c). As on Linux: it returns the number of
// messages received with each length in Mmsghdr.Len, an error only when
// the first receive failed (EAGAIN when nothing was waiting), and takes at
// most IOV_MAX messages per call.
func Recvmmsg(fd int, msgs []Mmsghdr, flags int) (int, syscall.Errno) {
	if len(msgs) > IOV_MAX {
		msgs = msgs[:IOV_MAX]
	}
	for i := range msgs {
		n, errno := Recvmsg(fd, &msgs[i].Hdr, flags)
		if errno != 0 {
			if i > 0 {
				return i, 0 // the error shows again on the next call
			}
			return -1, errno
		}
		msgs[i].Len = uint32(n)
	}
	return len(msgs), 0
}

// Sendmmsg sends up to len(msgs) messages, one Sendmsg each (see
// Recvmmsg): the number sent, an error only when the first failed.
func Sendmmsg(fd int, msgs []Mmsghdr, flags int) (int, syscall.Errno) {
	if len(msgs) > IOV_MAX {
		msgs = msgs[:IOV_MAX]
	}
	for i := range msgs {
		n, errno := Sendmsg(fd, &msgs[i].Hdr, flags)
		if errno != 0 {
			if i > 0 {
				return i, 0
			}
			return -1, errno
		}
		msgs[i].Len = uint32(n)
	}
	return len(msgs), 0
}
