package selector

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// kqHavePipe2: darwin has no pipe2 (kqKernel pipe2).
const kqHavePipe2 = false

// kqPipe makes a Waker's pipe. darwin has no pipe2, so FD_CLOEXEC is set
// after pipe(2) with syscall.ForkLock held for reading, as the standard
// library's syscall.Pipe does there: os/exec cannot fork in between. (A
// darwin Waker is an EVFILT_USER knote; this runs only if the kernel ever
// refused the filter.)
func kqPipe() (r, w int, err error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err = unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, -1, &OpError{Op: "new waker", Fd: -1, Err: err}
	}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			closeFd(p[0])
			closeFd(p[1])
			return -1, -1, &OpError{Op: "new waker", Fd: fd, Err: err}
		}
	}
	return p[0], p[1], nil
}
