//go:build linux

package selector_test

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/selector"
)

// An event loop with a TCP listener: accept every pending connection on
// each readable event (edge-triggered: until EAGAIN), echo what arrives.
func Example() {
	const listenerToken = selector.Token(0)
	lfd, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	defer unix.Close(lfd)
	unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	unix.Listen(lfd, 128)
	sa, _ := unix.Getsockname(lfd)

	s, err := selector.New()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.Register(lfd, listenerToken, selector.Readable)

	// A client, so that the loop below has something to do.
	client, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	defer unix.Close(client)
	unix.Connect(client, sa)
	unix.Write(client, []byte("ping"))

	events := selector.NewEvents(128)
	buf := make([]byte, 4096)
	conns := map[selector.Token]int{}
	for echoed := false; !echoed; {
		if err := s.Select(events, time.Second); err != nil {
			panic(err)
		}
		for ev := range events.All() {
			if ev.Token() == listenerToken {
				for {
					fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
					if err != nil { // EAGAIN: the backlog is empty
						break
					}
					tok := selector.Token(fd) + 1
					conns[tok] = fd
					s.Register(fd, tok, selector.Readable)
				}
				continue
			}
			fd := conns[ev.Token()]
			n, errno := rawsys.Read(fd, buf)
			if n > 0 {
				rawsys.Write(fd, buf[:n])
				echoed = true
			}
			if n == 0 || (errno != 0 && errno != unix.EAGAIN) || ev.IsReadClosed() {
				s.Deregister(fd)
				unix.Close(fd)
				delete(conns, ev.Token())
			}
		}
	}
	n, _ := unix.Read(client, buf)
	fmt.Printf("%s\n", buf[:n])
	for _, fd := range conns {
		unix.Close(fd)
	}
	// Output: ping
}

// A Waker lets another goroutine interrupt a blocked Select.
func ExampleWaker() {
	s, _ := selector.New()
	defer s.Close()
	const wakeToken = selector.Token(1 << 63)
	w, err := selector.NewWaker(s, wakeToken)
	if err != nil {
		panic(err)
	}
	defer w.Close()

	go func() {
		time.Sleep(10 * time.Millisecond)
		w.Wake()
	}()
	events := selector.NewEvents(8)
	s.Select(events, -1) // blocks; the scheduler runs other goroutines meanwhile
	for ev := range events.All() {
		fmt.Println("woken:", ev.Token() == wakeToken)
	}
	// Output: woken: true
}

// Reading tokens straight out of the kernel's records: At and All return
// views into the Events buffer, so the loop copies nothing per event.
func ExampleEvents() {
	s, _ := selector.New()
	defer s.Close()
	var p [2]int
	unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC)
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	s.Register(p[0], 42, selector.Readable)
	s.Register(p[1], 43, selector.Writable)
	unix.Write(p[1], []byte("x"))

	events := selector.NewEvents(8)
	s.Select(events, time.Second)
	readable, writable := 0, 0
	for i := range events.Len() {
		ev := events.At(i)
		switch ev.Token() {
		case 42:
			readable++
		case 43:
			writable++
		}
	}
	fmt.Println(readable, writable)
	// Output: 1 1
}
