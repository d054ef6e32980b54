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
