//go:build linux

package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/selector"
)

// Config is the server's configuration.
type Config struct {
	Addr     [4]byte       // IPv4 address to listen on
	Port     int           // 0 picks a free port (shared by every loop's listener)
	Loops    int           // event loops, one per locked OS thread
	BusyPoll time.Duration // spin with zero-timeout Selects this long before blocking
	BufSize  int           // per-connection buffer (default 64 KiB)
	SndBuf   int           // SO_SNDBUF for accepted sockets (0: the kernel's); tests shrink it to force partial writes
	Stats    bool          // measure loop latency
}

// Server is a TCP echo server: Loops event loops, each with its own
// selector, its own SO_REUSEPORT listener on the same port (the kernel
// spreads connections across them), and its own connections.
type Server struct {
	cfg   Config
	port  int
	loops []*loop
	wg    sync.WaitGroup
	stop  atomic.Bool
}

// Stats are a loop's counters, read by another goroutine.
type Stats struct {
	Msgs, Bytes, Accepted, Closed, PartialWrites atomic.Uint64
	lat                                          histogram
}

// The token of a connection carries its slot and the slot's generation:
// an event still in flight for a closed connection whose slot was reused
// has the old generation and is dropped.
const listenerToken = selector.Token(1<<64 - 1)
const wakeToken = selector.Token(1<<64 - 2)

func token(slot int, gen uint32) selector.Token {
	return selector.Token(uint64(gen)<<32 | uint64(slot))
}

type conn struct {
	fd       int
	gen      uint32
	buf      []byte // reused for every message
	wpos, wn int    // unwritten bytes buf[wpos:wn] after a partial write
	open     bool
}

type loop struct {
	srv   *Server
	sel   *selector.Selector
	wake  *selector.Waker
	lfd   int
	conns []conn
	free  []int
	stats Stats
}

// NewServer binds every loop's listener; Serve runs the loops.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Loops <= 0 {
		cfg.Loops = runtime.GOMAXPROCS(0)
	}
	if cfg.BufSize <= 0 {
		cfg.BufSize = 64 << 10
	}
	s := &Server{cfg: cfg, port: cfg.Port}
	for i := 0; i < cfg.Loops; i++ {
		l, err := s.newLoop()
		if err != nil {
			s.Close()
			return nil, err
		}
		s.loops = append(s.loops, l)
	}
	return s, nil
}

// Port is the port every listener is bound to.
func (s *Server) Port() int { return s.port }

func (s *Server) newLoop() (*loop, error) {
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	fail := func(what string, err error) (*loop, error) {
		unix.Close(lfd)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.SetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("SO_REUSEADDR", err)
	}
	if err := unix.SetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fail("SO_REUSEPORT", err)
	}
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: s.cfg.Addr, Port: s.port}); err != nil {
		return fail("bind", err)
	}
	if s.port == 0 {
		sa, err := unix.Getsockname(lfd)
		if err != nil {
			return fail("getsockname", err)
		}
		s.port = sa.(*unix.SockaddrInet4).Port
	}
	if err := unix.Listen(lfd, 4096); err != nil {
		return fail("listen", err)
	}
	sel, err := selector.New()
	if err != nil {
		return fail("selector", err)
	}
	if err := sel.Register(lfd, listenerToken, selector.Readable); err != nil {
		sel.Close()
		return fail("register listener", err)
	}
	wake, err := selector.NewWaker(sel, wakeToken)
	if err != nil {
		sel.Close()
		return fail("waker", err)
	}
	return &loop{srv: s, sel: sel, wake: wake, lfd: lfd}, nil
}

// Serve runs every loop on its own locked OS thread and returns when Close
// has stopped them all.
func (s *Server) Serve() {
	for _, l := range s.loops {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if err := l.run(); err != nil {
				fmt.Println("echo: loop:", err)
			}
		}()
	}
	s.wg.Wait()
	for _, l := range s.loops {
		l.shutdown()
	}
}

// Close stops the loops: each is woken and returns.
func (s *Server) Close() {
	s.stop.Store(true)
	for _, l := range s.loops {
		l.wake.Wake()
	}
}

// Stats returns each loop's counters.
func (s *Server) Stats() []*Stats {
	out := make([]*Stats, len(s.loops))
	for i, l := range s.loops {
		out[i] = &l.stats
	}
	return out
}

func (l *loop) run() error {
	events := selector.NewEvents(256)
	busy := l.srv.cfg.BusyPoll
	measure := l.srv.cfg.Stats
	for !l.srv.stop.Load() {
		if err := l.wait(events, busy); err != nil {
			return err
		}
		var start int64
		if measure {
			start = time.Now().UnixNano()
		}
		for ev := range events.All() {
			switch tok := ev.Token(); tok {
			case listenerToken:
				l.acceptAll()
			case wakeToken:
			default:
				l.serve(tok, ev.IsReadClosed() || ev.IsError())
			}
		}
		if measure && events.Len() > 0 {
			l.stats.lat.add(time.Now().UnixNano() - start)
		}
	}
	return nil
}

// wait blocks in Select, after spinning with zero-timeout Selects for up to
// busy when asked to (-busy-poll): a spin never hands the P to the
// scheduler, so a reply that arrives within it skips the wake-up.
func (l *loop) wait(events *selector.Events, busy time.Duration) error {
	if busy > 0 {
		deadline := time.Now().Add(busy)
		for {
			if err := l.sel.Select(events, 0); err != nil || events.Len() > 0 {
				return err
			}
			if time.Now().After(deadline) {
				break
			}
		}
	}
	return l.sel.Select(events, -1)
}

// acceptAll accepts until EAGAIN (the listener is edge-triggered).
func (l *loop) acceptAll() {
	for {
		fd, _, err := unix.Accept4(l.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			if err != unix.EAGAIN && err != unix.ECONNABORTED && err != unix.EINTR {
				fmt.Println("echo: accept:", err)
			}
			if err == unix.ECONNABORTED || err == unix.EINTR {
				continue
			}
			l.sel.WouldBlock(l.lfd, selector.Readable) // drained: re-arm (the poll backend needs it)
			return
		}
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if l.srv.cfg.SndBuf > 0 {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, l.srv.cfg.SndBuf)
		}
		slot := l.slot()
		c := &l.conns[slot]
		c.fd, c.open, c.wpos, c.wn = fd, true, 0, 0
		if err := l.sel.Register(fd, token(slot, c.gen), selector.Readable|selector.Writable); err != nil {
			fmt.Println("echo: register:", err)
			l.close(slot)
			continue
		}
		l.stats.Accepted.Add(1)
	}
}

// slot returns a free connection slot, growing the table (and allocating
// a buffer) only when every slot is in use: buffers are reused across
// connections, so steady traffic allocates nothing.
func (l *loop) slot() int {
	if n := len(l.free); n > 0 {
		i := l.free[n-1]
		l.free = l.free[:n-1]
		return i
	}
	l.conns = append(l.conns, conn{buf: make([]byte, l.srv.cfg.BufSize)})
	return len(l.conns) - 1
}

// serve handles an event for a connection. hup is the event's read-closed
// or error state: then the connection must be read to EOF, because the
// hang-up has been reported already and edge triggering will not report it
// again.
func (l *loop) serve(tok selector.Token, hup bool) {
	slot, gen := int(uint32(tok)), uint32(tok>>32)
	if slot >= len(l.conns) || !l.conns[slot].open || l.conns[slot].gen != gen {
		return // an event for a connection already closed: its slot moved on
	}
	c := &l.conns[slot]
	if c.wn > c.wpos { // a partial write to finish first
		if !l.flush(slot) {
			return
		}
	}
	for {
		n, errno := rawsys.Read(c.fd, c.buf)
		switch {
		case n > 0:
			l.stats.Msgs.Add(1)
			l.stats.Bytes.Add(uint64(n))
			c.wpos, c.wn = 0, n
			if !l.flush(slot) {
				return // closed, or waiting for a writable event
			}
			if n < len(c.buf) && !hup {
				// A short read on a stream socket means the receive queue
				// is empty: with edge triggering the next arrival (data or
				// the peer's FIN) is a new event, so stop here instead of
				// paying a read that returns EAGAIN. Not when this event
				// already carried the hang-up: that edge is spent, so read
				// on to the EOF. WouldBlock says so to the selector: a
				// no-op on epoll and kqueue, the re-arm on poll.
				l.sel.WouldBlock(c.fd, selector.Readable)
				return
			}
		case n == 0: // EOF
			l.close(slot)
			return
		case errno == syscall.EAGAIN:
			l.sel.WouldBlock(c.fd, selector.Readable)
			return
		case errno == syscall.EINTR:
		default: // ECONNRESET and friends
			l.close(slot)
			return
		}
	}
}

// flush writes buf[wpos:wn]; it reports whether everything was written.
// On EAGAIN the rest stays and is finished on the next writable event.
func (l *loop) flush(slot int) bool {
	c := &l.conns[slot]
	for c.wpos < c.wn {
		n, errno := rawsys.Write(c.fd, c.buf[c.wpos:c.wn])
		if n > 0 {
			c.wpos += n
			if c.wpos < c.wn {
				l.stats.PartialWrites.Add(1)
			}
			continue
		}
		if errno == syscall.EAGAIN {
			l.sel.WouldBlock(c.fd, selector.Writable)
			return false
		}
		if errno != syscall.EINTR {
			l.close(slot)
			return false
		}
	}
	c.wpos, c.wn = 0, 0
	return true
}

func (l *loop) close(slot int) {
	c := &l.conns[slot]
	if !c.open {
		return
	}
	l.sel.Deregister(c.fd)
	unix.Close(c.fd)
	c.open, c.fd, c.wpos, c.wn = false, -1, 0, 0
	c.gen++ // events still queued for the old connection no longer match
	l.free = append(l.free, slot)
	l.stats.Closed.Add(1)
}

func (l *loop) shutdown() {
	for i := range l.conns {
		l.close(i)
	}
	l.wake.Close()
	l.sel.Close()
	unix.Close(l.lfd)
}

// histogram counts durations in power-of-two nanosecond buckets.
type histogram struct {
	b [40]atomic.Uint64
}

func (h *histogram) add(ns int64) {
	i := 0
	for ns > 1 && i < len(h.b)-1 {
		ns >>= 1
		i++
	}
	h.b[i].Add(1)
}

// snapshot moves the counts out and returns the p50 and p99 bucket upper
// bounds.
func (h *histogram) snapshot() (p50, p99 time.Duration, n uint64) {
	var c [40]uint64
	for i := range h.b {
		c[i] = h.b[i].Swap(0)
		n += c[i]
	}
	if n == 0 {
		return 0, 0, 0
	}
	q := func(f float64) time.Duration {
		want, acc := uint64(f*float64(n)+0.5), uint64(0)
		for i, v := range c {
			if acc += v; acc >= max(want, 1) {
				return time.Duration(1) << i
			}
		}
		return 0
	}
	return q(0.50), q(0.99), n
}
