//go:build linux && !rawpoll_forcepoll

package selector_test

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// TestReview3UringRegisterOPathFifo: io_uring's Register now refuses what
// epoll_ctl refuses (EPERM for files without poll, via the epoll probe),
// but it skips the probe for sockets and FIFOs ("they always can"), judged
// by fstat's file type. An O_PATH descriptor of a FIFO (or of a bound unix
// socket) has that type and no file operations at all: epoll_ctl answers
// EBADF (fdget ignores O_PATH files), and so does io_uring's poll, but
// only in its completion (fget in io_file_get_normal): Register succeeds
// and the next Select reports an error event for an fd that was never
// usable.
func TestReview3UringRegisterOPathFifo(t *testing.T) {
	s := review2UringSelector(t)
	ep, err := selector.New(selector.WithBackend("epoll"))
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	epErr := ep.Register(fd, 1, selector.Readable)
	if !errors.Is(epErr, syscall.EBADF) {
		t.Fatalf("epoll Register(O_PATH fifo) = %v, want EBADF (the reference behaviour)", epErr)
	}
	urErr := s.Register(fd, 1, selector.Readable)
	if errors.Is(urErr, syscall.EBADF) {
		return
	}
	ev := selector.NewEvents(8)
	s.Select(ev, 200*time.Millisecond)
	t.Fatalf("io_uring Register(O_PATH fifo) = %v, epoll's %v; the next Select reported %d events (first error=%v)",
		urErr, epErr, ev.Len(), ev.Len() > 0 && ev.At(0).IsError())
}
