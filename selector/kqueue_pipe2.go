//go:build dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package selector

import "golang.org/x/sys/unix"

// kqHavePipe2: pipe2 exists here (kqKernel pipe2; checked on the target
// by TestKqPipe2MatchesTable).
const kqHavePipe2 = true

// kqPipe makes a Waker's pipe, close-on-exec and non-blocking atomically
// (pipe2(2)).
func kqPipe() (r, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return -1, -1, &OpError{Op: "new waker", Fd: -1, Err: err}
	}
	return p[0], p[1], nil
}
