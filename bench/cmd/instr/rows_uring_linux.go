//go:build linux && !rawpoll_forcepoll && (amd64 || arm64)

package main

// The selector on its io_uring backend (impl=uring, as in bench/), beside
// the epoll rows of the same names. Where io_uring is refused (a seccomp
// filter, kernel.io_uring_disabled, qemu-user) these rows are not added,
// with a note on stderr; benchgate then reports them missing against a
// baseline that has them.

import (
	"fmt"
	"os"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/selector"
)

func init() {
	if err := selector.IoUringUnavailable(); err != nil {
		fmt.Fprintf(os.Stderr, "instr: impl=uring rows left out: %v\n", err)
		return
	}
	rows = append(rows,
		row{name: "EpollWaitEmpty/impl=uring", setup: uringSelectEmpty},
		row{name: "WriteSelect/impl=uring", setup: func() (func(int), func()) { return writeSelect(true) }},
		row{name: "WriteSelect/impl=rawsys", setup: func() (func(int), func()) { return writeSelect(false) }},
	)
}

func (c *closers) uring() *selector.Selector {
	s, err := selector.New(selector.WithBackend("io_uring"))
	check(err)
	c.add(func() { s.Close() })
	if s.Backend() != "io_uring" {
		panic("WithBackend(io_uring) gave " + s.Backend())
	}
	return s
}

// EpollWaitEmpty/impl=uring: Select(ev, 0) with nothing ready, a look at
// the completion ring without a system call.
func uringSelectEmpty() (func(int), func()) {
	var c closers
	s := c.uring()
	ev := selector.NewEvents(64)
	return func(n int) {
		for range n {
			if err := s.Select(ev, 0); err != nil {
				panic(err)
			}
		}
	}, c.close
}

// WriteSelect: an eventfd write (the bare stub) and the Select(ev, 0) that
// reports its edge, one event with its token read: the cost of an event
// that is waiting, on io_uring (a completion in the ring) and on epoll (an
// edge-triggered registration; impl=rawsys).
func writeSelect(uring bool) (func(int), func()) {
	var c closers
	s := c.selector()
	if uring {
		s = c.uring()
	}
	efd := c.eventfd()
	check(s.Register(efd, 7, selector.Readable))
	ev := selector.NewEvents(4)
	check(s.Select(ev, 0)) // io_uring: submits the registration
	return func(n int) {
		var sum selector.Token
		for range n {
			if _, errno := rawsys.Write(efd, one); errno != 0 {
				panic(errno)
			}
			if err := s.Select(ev, 0); err != nil || ev.Len() != 1 {
				panic(fmt.Sprint("WriteSelect: ", err, ev.Len()))
			}
			for e := range ev.All() {
				sum += e.Token()
			}
		}
		sink = uint64(sum)
	}, c.close
}
