//go:build amd64 || arm64

package selector_test

import "golang.org/x/sys/unix"

// newEventfd gives the fuzzer its third kind of descriptor on Linux.
func newEventfd() (int, bool) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	return fd, err == nil
}
