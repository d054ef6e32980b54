//go:build linux && (amd64 || arm64)

package selector_test

import (
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/selector"
)

// An echo server's event loop, by every rule of the package: accept until
// EAGAIN, read until EAGAIN or a short read (reading on to EOF when the
// event reported the hang-up), queue what a write did not take and finish
// it on the next writable event, call WouldBlock with the direction that
// ran dry (a no-op on epoll, the re-arm on poll), handle errors, and
// deregister before close. A client sends one message and waits for it.
func Example() {
	const listenerToken = selector.Token(1<<64 - 1)
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	defer unix.Close(lfd)
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		panic(err)
	}
	if err := unix.Listen(lfd, 128); err != nil {
		panic(err)
	}
	addr, err := unix.Getsockname(lfd)
	if err != nil {
		panic(err)
	}

	s, err := selector.New()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if err := s.Register(lfd, listenerToken, selector.Readable); err != nil {
		panic(err)
	}

	// A blocking client in a goroutine of its own.
	reply := make(chan string, 1)
	go func() {
		c, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		defer unix.Close(c)
		unix.Connect(c, addr)
		unix.Write(c, []byte("ping"))
		buf := make([]byte, 4)
		n, _ := unix.Read(c, buf)
		reply <- string(buf[:n])
	}()

	type conn struct {
		fd      int
		pending []byte // what a write did not take, finished on Writable
	}
	conns := map[selector.Token]*conn{}
	closeConn := func(tok selector.Token) {
		c := conns[tok]
		s.Deregister(c.fd)
		unix.Close(c.fd)
		delete(conns, tok)
	}
	// write sends p (after what is pending); it reports false when the
	// connection failed and was closed.
	write := func(tok selector.Token, p []byte) bool {
		c := conns[tok]
		c.pending = append(c.pending, p...)
		for len(c.pending) > 0 {
			n, errno := rawsys.Write(c.fd, c.pending)
			switch {
			case n > 0:
				c.pending = c.pending[n:]
			case errno == syscall.EAGAIN:
				s.WouldBlock(c.fd, selector.Writable) // finished on the next writable event
				return true
			case errno != syscall.EINTR:
				closeConn(tok)
				return false
			}
		}
		return true
	}

	events := selector.NewEvents(128)
	buf := make([]byte, 64<<10)
	next := selector.Token(1)
	for done := false; !done; {
		if err := s.Select(events, time.Second); err != nil {
			panic(err)
		}
		select {
		case r := <-reply:
			fmt.Println(r)
			done = true
		default:
		}
		for ev := range events.All() {
			tok := ev.Token()
			if tok == listenerToken {
				for {
					fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
					if err == unix.EAGAIN {
						s.WouldBlock(lfd, selector.Readable)
						break
					}
					if err == unix.ECONNABORTED || err == unix.EINTR {
						continue
					}
					if err != nil { // EMFILE and friends: try again on the next event
						break
					}
					if err := s.Register(fd, next, selector.Readable|selector.Writable); err != nil {
						unix.Close(fd)
						continue
					}
					conns[next] = &conn{fd: fd}
					next++
				}
				continue
			}
			c, ok := conns[tok]
			if !ok {
				continue // closed earlier in this batch
			}
			if ev.IsWritable() && len(c.pending) > 0 && !write(tok, nil) {
				continue
			}
			if !ev.IsReadable() && !ev.IsReadClosed() && !ev.IsError() {
				continue
			}
			hup := ev.IsReadClosed() || ev.IsError()
			for {
				n, errno := rawsys.Read(c.fd, buf) // n is -1 on error
				if n == 0 || (n < 0 && errno != syscall.EAGAIN && errno != syscall.EINTR) {
					closeConn(tok) // EOF, or ECONNRESET and friends
					break
				}
				if errno == syscall.EAGAIN {
					s.WouldBlock(c.fd, selector.Readable)
					break
				}
				if n > 0 && !write(tok, buf[:n]) {
					break
				}
				if n > 0 && n < len(buf) && !hup {
					s.WouldBlock(c.fd, selector.Readable) // a short read: drained
					break
				}
			}
		}
	}
	for tok := range conns {
		closeConn(tok)
	}
	// Output: ping
}

// A Waker lets another goroutine interrupt a blocked Select.
func ExampleWaker() {
	s, err := selector.New()
	if err != nil {
		panic(err)
	}
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
	if err := s.Select(events, -1); err != nil { // blocks; the scheduler runs other goroutines meanwhile
		panic(err)
	}
	for ev := range events.All() {
		fmt.Println("woken:", ev.Token() == wakeToken)
	}
	// Output: woken: true
}

// Reading tokens straight out of the kernel's records: At and All return
// views into the Events buffer, so the loop copies nothing per event.
func ExampleEvents() {
	s, err := selector.New()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		panic(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	s.Register(p[0], 42, selector.Readable)
	s.Register(p[1], 43, selector.Writable)
	unix.Write(p[1], []byte("x"))

	events := selector.NewEvents(8)
	if err := s.Select(events, time.Second); err != nil {
		panic(err)
	}
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
