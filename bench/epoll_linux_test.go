package bench

import (
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/selector"
)

func mustEpoll(b *testing.B) int {
	b.Helper()
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fd) })
	return fd
}

// BenchmarkEpollWaitEmpty: a zero-timeout wait on an epoll instance with
// nothing ready, the call an event loop makes when it polls. impl=rawsys is
// selector.Select(ev, 0); impl=xsys is unix.EpollWait(epfd, buf, 0);
// impl=stub is the raw assembly stub alone and impl=syscall is
// syscall.RawSyscall6, the floor a Go program can reach.
func BenchmarkEpollWaitEmpty(b *testing.B) {
	b.Run("impl=rawsys", func(b *testing.B) {
		s, err := selector.New()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		ev := selector.NewEvents(64)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Select(ev, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=xsys", func(b *testing.B) {
		epfd := mustEpoll(b)
		buf := make([]unix.EpollEvent, 64)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := unix.EpollWait(epfd, buf, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=stub", func(b *testing.B) {
		epfd := mustEpoll(b)
		buf := make([]rawsys.EpollEvent, 64)
		b.ReportAllocs()
		for b.Loop() {
			if _, errno := rawsys.EpollPwaitRaw(epfd, &buf[0], len(buf), 0); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
	b.Run("impl=syscall", func(b *testing.B) {
		epfd := mustEpoll(b)
		buf := make([]rawsys.EpollEvent, 64)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&buf[0])), 64, 0, 0, 8); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
}
