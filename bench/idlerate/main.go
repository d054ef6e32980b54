//go:build linux && (amd64 || arm64)

// Command idlerate counts the Selects per second of an event loop over
// idle loopback TCP connections registered Readable|Writable, the figure
// that showed poll's old re-arm of every interest: the loop reads on every
// event, as a new user's echo server did, hits EAGAIN and calls
// WouldBlock(fd, Readable). On epoll the idle connections report once; a
// poll emulation that re-armed Writable there reported every socket
// writable again at once, and the loop spun (121,071 Selects in one second
// against epoll's 11 on this VM). `make bench-idle` runs it on both Linux
// builds.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

func main() {
	conns := flag.Int("conns", 16, "idle connections")
	dur := flag.Duration("d", time.Second, "how long to count")
	flag.Parse()
	if err := run(*conns, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "idlerate:", err)
		os.Exit(1)
	}
}

func run(conns int, dur time.Duration) error {
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(lfd)
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return err
	}
	if err := unix.Listen(lfd, 128); err != nil {
		return err
	}
	sa, err := unix.Getsockname(lfd)
	if err != nil {
		return err
	}
	s, err := selector.New()
	if err != nil {
		return err
	}
	defer s.Close()
	for range conns {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(c)
		if err := unix.Connect(c, sa); err != nil {
			return err
		}
		a, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return err
		}
		defer unix.Close(a)
		if err := s.Register(a, selector.Token(a), selector.Readable|selector.Writable); err != nil {
			return err
		}
	}
	ev := selector.NewEvents(256)
	buf := make([]byte, 4096)
	selects := 0
	for deadline := time.Now().Add(dur); time.Now().Before(deadline); {
		if err := s.Select(ev, 100*time.Millisecond); err != nil {
			return err
		}
		selects++
		for e := range ev.All() {
			fd := int(e.Token())
			for range 1024 { // reads on every event, writable ones too
				n, err := unix.Read(fd, buf)
				if err == unix.EAGAIN {
					s.WouldBlock(fd, selector.Readable)
					break
				}
				if err != nil || n == 0 {
					return fmt.Errorf("read: %d, %v: the connections are idle", n, err)
				}
			}
		}
	}
	fmt.Printf("%s: %d Selects in %v with %d idle Readable|Writable connections\n", s.Backend(), selects, dur, conns)
	return nil
}
