//go:build linux && !rawpoll_forcepoll && (amd64 || arm64)

package main

// The epoll selector's hot paths and rawsys's stubs, each with its x/sys
// counterpart and, where it explains a figure, the bare stub (impl=stub)
// or syscall.RawSyscall6 (impl=syscall). Names follow bench/'s timing
// benchmarks.
//
// Adding a row (the socket calls: Accept, Readv, Writev, ReadBatch,
// WriteBatch; more io_uring paths, as rows_uring_linux.go and
// rows_http1.go did): in a rows_<area>[_linux].go file of its own, append
// to rows from init, one row per impl, named as the bench/ timing
// benchmark is (impl=xsys and impl=syscall are references and not gated;
// every other impl is). setup creates what the loop needs and returns the
// loop and a cleanup; the loop runs the hot path exactly n times, in a
// plain for loop with nothing else in it but the cheapest check of the
// result (panic on failure), so that the count is the call's. It must cost
// the same on every iteration, for 64 + 8*n1 iterations in a row (the
// warm-up and the four measured runs, n1 up to 512): a loop that fills a
// buffer or a ring must drain it in the same iteration, and it must not
// allocate (the allocator is counted as a disturbance). Check it with go
// test ./bench/cmd/instr (TestRowsRun), then run make instr-baseline and
// commit the new baseline lines on their own.

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/selector"
)

func init() {
	rows = append(rows,
		row{name: "EpollWaitEmpty/impl=rawsys", setup: selectEmpty},
		row{name: "EpollWaitEmpty/impl=xsys", setup: xsysWaitEmpty},
		row{name: "EpollWaitEmpty/impl=rawsys-blocking", setup: pwaitEmpty},
		row{name: "EpollWaitEmpty/impl=stub", setup: stubWaitEmpty},
		row{name: "EpollWaitEmpty/impl=syscall", setup: syscallWaitEmpty},

		row{name: "EpollWaitReady/ready=64/impl=rawsys", setup: selectReady},
		row{name: "EpollWaitReady/ready=64/impl=xsys", setup: xsysWaitReady},
		row{name: "EpollWaitReady/ready=64/impl=stub", setup: stubWaitReady},

		row{name: "EventsAll/impl=rawsys", per: 64, setup: eventsAll},
		row{name: "EventsAll/impl=rawsys-at", per: 64, setup: eventsAt},
		row{name: "EventsAll/impl=xsys", per: 64, setup: xsysEvents},
		row{name: "EventsAll/impl=stub", per: 64, setup: stubEvents},

		row{name: "EpollCtlAddDel/impl=rawsys", setup: registerDeregister},
		row{name: "EpollCtlAddDel/impl=xsys", setup: xsysAddDel},
		row{name: "EpollCtlAddDel/impl=stub", setup: stubAddDel},
		row{name: "EpollCtlMod/impl=rawsys", setup: reregister},
		row{name: "EpollCtlMod/impl=xsys", setup: xsysMod},
		row{name: "EpollCtlMod/impl=stub", setup: stubMod},

		row{name: "Wake/impl=rawsys", setup: wake},
		row{name: "Wake/impl=xsys", setup: xsysWake},
		row{name: "Wake/impl=stub", setup: stubWake},

		row{name: "ReadWrite64/impl=rawsys", setup: readWrite},
		row{name: "ReadWrite64/impl=xsys", setup: xsysReadWrite},
		row{name: "ReadWrite64/impl=syscall", setup: syscallReadWrite},
	)
}

// closers collects what a setup opened, for its cleanup.
type closers []func()

func (c *closers) add(f func()) { *c = append(*c, f) }

func (c *closers) close() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

func checkErrno(errno syscall.Errno) {
	if errno != 0 {
		panic(errno)
	}
}

func (c *closers) selector() *selector.Selector {
	// epoll whatever RAWPOLL_BACKEND says: the impl=uring rows are their own.
	s, err := selector.New(selector.WithBackend("epoll"))
	check(err)
	c.add(func() { s.Close() })
	return s
}

func (c *closers) epoll() int {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	check(err)
	c.add(func() { unix.Close(fd) })
	return fd
}

func (c *closers) eventfd() int {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	check(err)
	c.add(func() { unix.Close(fd) })
	return fd
}

func (c *closers) socketpair() [2]int {
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	check(err)
	c.add(func() { unix.Close(sp[0]); unix.Close(sp[1]) })
	return sp
}

// readyFds returns 64 eventfds with non-zero counters: registered
// level-triggered, every wait reports all of them (as in
// bench.BenchmarkEpollWaitReady).
func (c *closers) readyFds() []int {
	fds := make([]int, 64)
	for i := range fds {
		fds[i] = c.eventfd()
		_, err := unix.Write(fds[i], []byte{1, 0, 0, 0, 0, 0, 0, 0})
		check(err)
	}
	return fds
}

// readyEpoll returns an epoll descriptor with the 64 readyFds registered
// level-triggered, token i<<32|i, through rawsys.EpollCtl (on s.Fd() for
// a Selector).
func (c *closers) readyEpoll(epfd int) {
	for i, fd := range c.readyFds() {
		var ev rawsys.EpollEvent
		ev.Set(rawsys.EPOLLIN, uint64(i)<<32|uint64(i))
		checkErrno(rawsys.EpollCtl(epfd, rawsys.EPOLL_CTL_ADD, fd, &ev))
	}
}

// sink receives the loops' sums, so that the compiler keeps the token
// reads.
//
//lint:ignore U1000 written only: being written is its purpose
var sink uint64

// EpollWaitEmpty: a zero-timeout wait with nothing ready.

func selectEmpty() (func(int), func()) {
	var c closers
	s := c.selector()
	ev := selector.NewEvents(64)
	return func(n int) {
		for range n {
			if err := s.Select(ev, 0); err != nil {
				panic(err)
			}
		}
	}, c.close
}

func xsysWaitEmpty() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	buf := make([]unix.EpollEvent, 64)
	return func(n int) {
		for range n {
			if _, err := unix.EpollWait(epfd, buf, 0); err != nil {
				panic(err)
			}
		}
	}, c.close
}

func pwaitEmpty() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	buf := make([]rawsys.EpollEvent, 64)
	return func(n int) {
		for range n {
			if _, errno := rawsys.EpollPwait(epfd, &buf[0], len(buf), 0); errno != 0 {
				panic(errno)
			}
		}
	}, c.close
}

func stubWaitEmpty() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	buf := make([]rawsys.EpollEvent, 64)
	return func(n int) {
		for range n {
			if _, errno := rawsys.EpollPwaitRaw(epfd, &buf[0], len(buf), 0); errno != 0 {
				panic(errno)
			}
		}
	}, c.close
}

func syscallWaitEmpty() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	buf := make([]rawsys.EpollEvent, 64)
	return func(n int) {
		for range n {
			if _, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&buf[0])), 64, 0, 0, 8); errno != 0 {
				panic(errno)
			}
		}
	}, c.close
}

// EpollWaitReady/ready=64: a zero-timeout wait returning 64 events, every
// token read.

func selectReady() (func(int), func()) {
	var c closers
	s := c.selector()
	c.readyEpoll(s.Fd())
	ev := selector.NewEvents(64)
	return func(n int) {
		var sum selector.Token
		for range n {
			if err := s.Select(ev, 0); err != nil || ev.Len() != 64 {
				panic(err)
			}
			for e := range ev.All() {
				sum += e.Token()
			}
		}
		sink = uint64(sum)
	}, c.close
}

func xsysWaitReady() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	c.readyEpoll(epfd)
	buf := make([]unix.EpollEvent, 64)
	return func(n int) {
		var sum uint64
		for range n {
			got, err := unix.EpollWait(epfd, buf, 0)
			if err != nil || got != 64 {
				panic(err)
			}
			b := buf[:got]
			for i := range b {
				sum += uint64(uint32(b[i].Pad))<<32 | uint64(uint32(b[i].Fd))
			}
		}
		sink = sum
	}, c.close
}

func stubWaitReady() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	c.readyEpoll(epfd)
	buf := make([]rawsys.EpollEvent, 64)
	return func(n int) {
		var sum uint64
		for range n {
			got, errno := rawsys.EpollPwaitRaw(epfd, &buf[0], len(buf), 0)
			if errno != 0 || got != 64 {
				panic(errno)
			}
			b := buf[:got]
			for i := range b {
				sum += b[i].Data()
			}
		}
		sink = sum
	}, c.close
}

// EventsAll: reading the tokens of 64 events already in the buffer, per
// event.

func eventsAll() (func(int), func()) {
	var c closers
	s := c.selector()
	c.readyEpoll(s.Fd())
	ev := selector.NewEvents(64)
	if err := s.Select(ev, 0); err != nil || ev.Len() != 64 {
		panic(err)
	}
	return func(n int) {
		var sum selector.Token
		for range n {
			for e := range ev.All() {
				sum += e.Token()
			}
		}
		sink = uint64(sum)
	}, c.close
}

func eventsAt() (func(int), func()) {
	var c closers
	s := c.selector()
	c.readyEpoll(s.Fd())
	ev := selector.NewEvents(64)
	if err := s.Select(ev, 0); err != nil || ev.Len() != 64 {
		panic(err)
	}
	return func(n int) {
		var sum selector.Token
		for range n {
			for i := range ev.Len() {
				sum += ev.At(i).Token()
			}
		}
		sink = uint64(sum)
	}, c.close
}

func xsysEvents() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	c.readyEpoll(epfd)
	buf := make([]unix.EpollEvent, 64)
	got, err := unix.EpollWait(epfd, buf, 0)
	if err != nil || got != 64 {
		panic(err)
	}
	return func(n int) {
		var sum uint64
		for range n {
			b := buf[:got]
			for i := range b {
				sum += uint64(uint32(b[i].Pad))<<32 | uint64(uint32(b[i].Fd))
			}
		}
		sink = sum
	}, c.close
}

func stubEvents() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	c.readyEpoll(epfd)
	buf := make([]rawsys.EpollEvent, 64)
	got, errno := rawsys.EpollPwaitRaw(epfd, &buf[0], len(buf), 0)
	if errno != 0 || got != 64 {
		panic(errno)
	}
	return func(n int) {
		var sum uint64
		for range n {
			b := buf[:got]
			for i := range b {
				sum += b[i].Data()
			}
		}
		sink = sum
	}, c.close
}

// EpollCtlAddDel: register and deregister one fd; EpollCtlMod: change its
// token and interests.

func registerDeregister() (func(int), func()) {
	var c closers
	s := c.selector()
	fd := c.eventfd()
	return func(n int) {
		for range n {
			if err := s.Register(fd, 1, selector.Readable); err != nil {
				panic(err)
			}
			if err := s.Deregister(fd); err != nil {
				panic(err)
			}
		}
	}, c.close
}

func xsysAddDel() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	fd := c.eventfd()
	return func(n int) {
		for range n {
			ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: 1}
			if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
				panic(err)
			}
			if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
				panic(err)
			}
		}
	}, c.close
}

func stubAddDel() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	fd := c.eventfd()
	return func(n int) {
		for range n {
			var ev rawsys.EpollEvent
			ev.Set(rawsys.EPOLLIN|rawsys.EPOLLRDHUP|rawsys.EPOLLET, 1)
			if errno := rawsys.EpollCtl(epfd, rawsys.EPOLL_CTL_ADD, fd, &ev); errno != 0 {
				panic(errno)
			}
			if errno := rawsys.EpollCtl(epfd, rawsys.EPOLL_CTL_DEL, fd, nil); errno != 0 {
				panic(errno)
			}
		}
	}, c.close
}

func reregister() (func(int), func()) {
	var c closers
	s := c.selector()
	fd := c.eventfd()
	check(s.Register(fd, 1, selector.Readable))
	return func(n int) {
		var t selector.Token
		for range n {
			t++
			if err := s.Reregister(fd, t, selector.Readable|selector.Writable); err != nil {
				panic(err)
			}
		}
	}, c.close
}

func xsysMod() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	fd := c.eventfd()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET}
	check(unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev))
	return func(n int) {
		var t int32
		for range n {
			t++
			ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLOUT | unix.EPOLLET, Fd: t}
			if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_MOD, fd, &ev); err != nil {
				panic(err)
			}
		}
	}, c.close
}

func stubMod() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	fd := c.eventfd()
	var ev0 rawsys.EpollEvent
	ev0.Set(rawsys.EPOLLIN|rawsys.EPOLLRDHUP|rawsys.EPOLLET, 0)
	checkErrno(rawsys.EpollCtl(epfd, rawsys.EPOLL_CTL_ADD, fd, &ev0))
	return func(n int) {
		var t uint64
		for range n {
			t++
			var ev rawsys.EpollEvent
			ev.Set(rawsys.EPOLLIN|rawsys.EPOLLRDHUP|rawsys.EPOLLOUT|rawsys.EPOLLET, t)
			if errno := rawsys.EpollCtl(epfd, rawsys.EPOLL_CTL_MOD, fd, &ev); errno != 0 {
				panic(errno)
			}
		}
	}, c.close
}

// Wake: one Waker.Wake (an eventfd write), against the same write through
// x/sys and through the bare stub.

func wake() (func(int), func()) {
	var c closers
	s := c.selector()
	w, err := selector.NewWaker(s, 1)
	check(err)
	c.add(func() { w.Close() })
	return func(n int) {
		for range n {
			if err := w.Wake(); err != nil {
				panic(err)
			}
		}
	}, c.close
}

var one = []byte{1, 0, 0, 0, 0, 0, 0, 0}

func xsysWake() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	efd := c.eventfd()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: 1}
	check(unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev))
	return func(n int) {
		for range n {
			if _, err := unix.Write(efd, one); err != nil {
				panic(err)
			}
		}
	}, c.close
}

func stubWake() (func(int), func()) {
	var c closers
	epfd := c.epoll()
	efd := c.eventfd()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: 1}
	check(unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev))
	return func(n int) {
		for range n {
			if _, errno := rawsys.Write(efd, one); errno != 0 {
				panic(errno)
			}
		}
	}, c.close
}

// ReadWrite64: write 64 bytes into a socketpair and read them back.

func readWrite() (func(int), func()) {
	var c closers
	sp := c.socketpair()
	msg, buf := make([]byte, 64), make([]byte, 64)
	return func(n int) {
		for range n {
			if k, errno := rawsys.Write(sp[0], msg); k != 64 || errno != 0 {
				panic(errno)
			}
			if k, errno := rawsys.Read(sp[1], buf); k != 64 || errno != 0 {
				panic(errno)
			}
		}
	}, c.close
}

func xsysReadWrite() (func(int), func()) {
	var c closers
	sp := c.socketpair()
	msg, buf := make([]byte, 64), make([]byte, 64)
	return func(n int) {
		for range n {
			if k, err := unix.Write(sp[0], msg); k != 64 || err != nil {
				panic(err)
			}
			if k, err := unix.Read(sp[1], buf); k != 64 || err != nil {
				panic(err)
			}
		}
	}, c.close
}

func syscallReadWrite() (func(int), func()) {
	var c closers
	sp := c.socketpair()
	msg, buf := make([]byte, 64), make([]byte, 64)
	return func(n int) {
		for range n {
			if k, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(sp[0]), uintptr(unsafe.Pointer(&msg[0])), 64); k != 64 || errno != 0 {
				panic(errno)
			}
			if k, _, errno := syscall.RawSyscall(syscall.SYS_READ, uintptr(sp[1]), uintptr(unsafe.Pointer(&buf[0])), 64); k != 64 || errno != 0 {
				panic(errno)
			}
		}
	}, c.close
}
