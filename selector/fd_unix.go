//go:build unix

package selector

import (
	"time"
	_ "unsafe" // for go:linkname

	"golang.org/x/sys/unix"
)

func closeFd(fd int) error {
	if err := unix.Close(fd); err != nil {
		return &OpError{Op: "close", Fd: fd, Err: err}
	}
	return nil
}

// dupCloexec duplicates fd onto the lowest free number with FD_CLOEXEC set
// atomically (fcntl(2) F_DUPFD_CLOEXEC), so no fork can inherit it.
func dupCloexec(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, &OpError{Op: "clone", Fd: fd, Err: err}
	}
	return nfd, nil
}

// nanotime is the runtime's monotonic clock: one vDSO read, where
// time.Now reads the wall clock as well. runtime/time_nofake.go marks it
// with a push linkname for use outside the standard library.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// deadlineAfter returns nanotime()+d, saturating instead of wrapping.
func deadlineAfter(d time.Duration) int64 {
	now := nanotime()
	if int64(d) > (1<<63-1)-now {
		return 1<<63 - 1
	}
	return now + int64(d)
}
