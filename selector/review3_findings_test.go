//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

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

// TestReview3EpollSelectKeepsRingCompletions: Completions are "valid until
// the next Select or Clear on these Events", and the io_uring code now
// settles loans of an Events "used with another Selector". But an epoll
// Select neither resets the completion count nor gives the loans back: an
// Events that served an io_uring Selector and then an epoll one still
// hands out the ring's old Recv completions after the epoll Select (a loop
// would handle the same received bytes twice), and the ring's buffers stay
// lent.
func TestReview3EpollSelectKeepsRingCompletions(t *testing.T) {
	s := review2UringSelector(t)
	ep, err := selector.New(selector.WithBackend("epoll"))
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	a, b := socketpair(t)
	if err := s.Recv(a, 5); err != nil {
		t.Fatal(err)
	}
	write(t, b, []byte("hello"))
	ev := selector.NewEvents(8)
	for deadline := time.Now().Add(3 * time.Second); len(ev.Completions()) == 0 && time.Now().Before(deadline); {
		if err := s.Select(ev, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if len(ev.Completions()) == 0 {
		t.Fatal("no completion for the data")
	}
	if err := ep.Select(ev, 0); err != nil { // nothing registered: no events
		t.Fatal(err)
	}
	if n := len(ev.Completions()); n != 0 {
		t.Fatalf("after an epoll Select: %d completions left from the io_uring Select before (first %q)", n, ev.Completions()[0].Buf)
	}
	s.Deregister(a)
}
