//go:build linux && (amd64 || arm64)

package selector_test

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TenKPipeFds opens n pipe descriptors for the 10,000-fd benchmarks with
// one readable: n-1 dups of one idle pipe's read end, and the read end of
// a second pipe holding a byte, returned last. Each descriptor is its own
// poll or epoll entry, and the kernel runs pipe_poll for every one. (n
// distinct pipes would take 2n descriptors; RLIMIT_NOFILE is 20,000 here
// and cannot be raised, even as root.)
func TenKPipeFds(b *testing.B, n int) []int {
	b.Helper()
	var idle, live [2]int
	if err := unix.Pipe2(idle[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	if err := unix.Pipe2(live[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	fds := []int{}
	b.Cleanup(func() {
		for _, fd := range append(fds, idle[0], idle[1], live[0], live[1]) {
			unix.Close(fd)
		}
	})
	for i := 0; i < n-1; i++ {
		fd, err := unix.FcntlInt(uintptr(idle[0]), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			b.Fatalf("dup %d: %v", i, err)
		}
		fds = append(fds, fd)
	}
	unix.Write(live[1], []byte("x"))
	return append(fds, live[0])
}
