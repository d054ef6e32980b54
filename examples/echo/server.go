//go:build linux && (amd64 || arm64)

package main

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
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
	// Backend is the selector backend to ask for ("" for the default;
	// see selector.WithBackend). On io_uring, connections are served
	// through the rings: RecvRing and SendRing, no read or write system
	// call per message.
	Backend string
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
	ring  bool // the loops serve through io_uring's rings
}

// Stats are a loop's counters, read by another goroutine.
type Stats struct {
	Msgs, Bytes, Accepted, Closed, PartialWrites atomic.Uint64
	// FlowStops counts ring-mode receives stopped because too much waited
	// to be sent: the ring-mode counterpart of PartialWrites.
	FlowStops atomic.Uint64
	lat       histogram
}

// The loop's own tokens are below 1<<32, which sock.Slab never issues: a
// connection's token is its slot in the Slab with the slot's generation,
// so an event still in flight for a closed connection whose slot was
// reused finds nothing.
const (
	listenerToken = selector.Token(0)
	wakeToken     = selector.Token(1)
)

type conn struct {
	c        sock.Conn
	buf      []byte // reused for every message, and by the next connection
	wpos, wn int    // unwritten bytes buf[wpos:wn] after a partial write

	// Ring mode (io_uring): out is in flight (SendRing's), pend collects
	// what arrives meanwhile; both reused.
	hup       bool // an event reported the hang-up: read on to EOF whenever reading resumes
	out, pend []byte
	sending   bool
	recvOff   bool // the receive is stopped (flow control) or stopping
	stopped   bool // ... and its last completion came: RecvRing to resume
	eof       bool // the peer shut down writing: close once everything is sent
	closing   bool // closed when the send in flight completes
}

// Ring-mode flow control: past highWater bytes waiting for a send in
// flight the receive is stopped (StopRecvRing), so that a peer that sends
// faster than it reads is held back by TCP, as a blocked write holds it
// back in readiness mode; it resumes once they are sent.
const highWater = 256 << 10

type loop struct {
	srv   *Server
	sel   *selector.Selector
	wake  *selector.Waker
	ln    *sock.Listener
	conns sock.Slab[conn]
	bufs  [][]byte // buffers of closed connections, for the next ones
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
			for _, l := range s.loops {
				l.shutdown()
			}
			return nil, err
		}
		s.loops = append(s.loops, l)
	}
	return s, nil
}

// Backend names the backend the loops run on, with " (rings)" when they
// serve through io_uring's rings.
func (s *Server) Backend() string {
	if len(s.loops) == 0 {
		return ""
	}
	b := s.loops[0].sel.Backend()
	if s.ring {
		b += " (rings)"
	}
	return b
}

// Port is the port every listener is bound to.
func (s *Server) Port() int { return s.port }

func (s *Server) newLoop() (*loop, error) {
	addr := netip.AddrPortFrom(netip.AddrFrom4(s.cfg.Addr), uint16(s.port))
	ln, err := sock.Listen(addr, sock.ReusePort(), sock.Backlog(4096))
	if err != nil {
		return nil, err
	}
	s.port = int(ln.Addr().Port()) // port 0: the next loops share the one picked
	fail := func(what string, err error) (*loop, error) {
		ln.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var opts []selector.Option
	if s.cfg.Backend != "" {
		opts = append(opts, selector.WithBackend(s.cfg.Backend))
	}
	sel, err := selector.New(opts...)
	if err != nil {
		return fail("selector", err)
	}
	s.ring = sel.Backend() == "io_uring"
	if err := sel.Register(ln.Fd(), listenerToken, selector.Readable); err != nil {
		sel.Close()
		return fail("register listener", err)
	}
	wake, err := selector.NewWaker(sel, wakeToken)
	if err != nil {
		sel.Close()
		return fail("waker", err)
	}
	return &loop{srv: s, sel: sel, wake: wake, ln: ln}, nil
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
		done := events.Completions()
		for i := range done {
			l.complete(&done[i])
		}
		if measure && events.Len()+len(done) > 0 {
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

// acceptAll accepts until EAGAIN (the listener is edge-triggered), each
// connection straight into a Slab slot: nothing is allocated per accept
// once the table and the buffer pool have grown to the peak.
func (l *loop) acceptAll() {
	for {
		tok, c := l.conns.Alloc()
		if _, err := l.ln.Accept(&c.c); err != nil {
			l.conns.Remove(tok)
			if err == syscall.EAGAIN {
				l.sel.WouldBlock(l.ln.Fd(), selector.Readable) // drained: re-arm (the poll backend needs it)
			} else {
				// EMFILE, ENFILE: the connection stays queued until a
				// later accept; this server just tries again on the
				// listener's next event.
				fmt.Println("echo: accept:", err)
			}
			return
		}
		c.c.SetNoDelay(true)
		if l.srv.cfg.SndBuf > 0 {
			c.c.SetSendBuffer(l.srv.cfg.SndBuf)
		}
		if n := len(l.bufs); n > 0 {
			c.buf, l.bufs = l.bufs[n-1], l.bufs[:n-1]
		} else {
			c.buf = make([]byte, l.srv.cfg.BufSize)
		}
		var err error
		if l.srv.ring {
			err = c.c.RecvRing(l.sel, tok)
		} else {
			err = l.sel.Register(c.c.Fd(), tok, selector.Readable|selector.Writable)
		}
		if err != nil {
			fmt.Println("echo: register:", err)
			l.close(tok, c)
			continue
		}
		l.stats.Accepted.Add(1)
	}
}

// serve handles an event for a connection. hup is the event's read-closed
// or error state: then the connection must be read to EOF, because the
// hang-up has been reported already and edge triggering will not report it
// again.
func (l *loop) serve(tok selector.Token, hup bool) {
	c := l.conns.Get(tok)
	if c == nil {
		return // an event for a connection already closed: its slot moved on
	}
	// The hang-up is reported once, and this connection may stop reading
	// for a blocked write before it gets there: the writable event that
	// resumes it need not carry the hang-up (on kqueue it does not).
	c.hup = c.hup || hup
	hup = c.hup
	if c.wn > c.wpos { // a partial write to finish first
		if !l.flush(tok, c) {
			return
		}
	}
	for {
		n, err := c.c.Read(c.buf)
		switch {
		case n > 0:
			l.stats.Msgs.Add(1)
			l.stats.Bytes.Add(uint64(n))
			c.wpos, c.wn = 0, n
			if !l.flush(tok, c) {
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
				l.sel.WouldBlock(c.c.Fd(), selector.Readable)
				return
			}
		case err == syscall.EAGAIN:
			l.sel.WouldBlock(c.c.Fd(), selector.Readable)
			return
		default: // io.EOF, ECONNRESET and friends
			l.close(tok, c)
			return
		}
	}
}

// flush writes buf[wpos:wn]; it reports whether everything was written.
// On EAGAIN or a partial write the rest stays and is finished on the next
// writable event.
func (l *loop) flush(tok selector.Token, c *conn) bool {
	for c.wpos < c.wn {
		n, err := c.c.Write(c.buf[c.wpos:c.wn])
		if n > 0 {
			c.wpos += n
			if c.wpos < c.wn {
				l.stats.PartialWrites.Add(1)
			}
			continue
		}
		if err == syscall.EAGAIN {
			l.sel.WouldBlock(c.c.Fd(), selector.Writable)
			return false
		}
		l.close(tok, c) // EPIPE, ECONNRESET: no SIGPIPE (sock writes with MSG_NOSIGNAL)
		return false
	}
	c.wpos, c.wn = 0, 0
	return true
}

// complete handles a ring-mode completion: a chunk received, the end of
// the receive, or the send in flight done.
func (l *loop) complete(cp *selector.Completion) {
	c := l.conns.Get(cp.Token)
	if c == nil || c.closing && cp.Op == selector.OpRecv {
		return // closed, or closing: nothing more is read
	}
	switch cp.Op {
	case selector.OpRecv:
		if cp.Res > 0 {
			l.stats.Msgs.Add(1)
			l.stats.Bytes.Add(uint64(cp.Res))
			c.pend = append(c.pend, cp.Buf...) // lent until the next Select: copied
		}
		if !cp.More {
			switch {
			case cp.Res == 0: // end of file: send what is left, then close
				c.eof = true
			case c.recvOff && (cp.Res > 0 || cp.Err() == syscall.ECANCELED):
				c.stopped = true // StopRecvRing took effect
			default: // ECONNRESET and friends
				l.close(cp.Token, c)
				return
			}
		}
		if c.eof && !c.sending && len(c.pend) == 0 {
			l.close(cp.Token, c)
			return
		}
		if !c.sending && len(c.pend) > 0 {
			l.ringSend(cp.Token, c)
		}
		if len(c.pend) > highWater && !c.recvOff {
			c.recvOff = true
			l.stats.FlowStops.Add(1)
			// ENOENT: the receive has already ended, and its last
			// completion (end of file, an error) is among those of this
			// Select still to handle: nothing to stop.
			if err := c.c.StopRecvRing(l.sel); err != nil && !errors.Is(err, syscall.ENOENT) {
				l.close(cp.Token, c)
			}
		}
	case selector.OpSend:
		c.sending = false
		c.out = cp.Buf[:0] // ours again
		switch {
		case c.closing || cp.Res < 0: // EPIPE, ECONNRESET
			l.close(cp.Token, c)
			return
		case len(c.pend) > 0:
			l.ringSend(cp.Token, c)
		case c.eof:
			l.close(cp.Token, c) // everything sent after the peer's end of file
			return
		}
		if c.stopped && !c.eof && len(c.pend) <= highWater/2 { // drained: read again
			c.recvOff, c.stopped = false, false
			if err := c.c.RecvRing(l.sel, cp.Token); err != nil {
				l.close(cp.Token, c)
			}
		}
	}
}

// ringSend sends what is pending: the pending buffer goes in flight, and
// the one that came back collects what arrives next.
func (l *loop) ringSend(tok selector.Token, c *conn) {
	c.out, c.pend = c.pend, c.out[:0]
	c.sending = true
	if err := c.c.SendRing(l.sel, tok, c.out); err != nil {
		c.sending = false
		l.close(tok, c)
	}
}

func (l *loop) close(tok selector.Token, c *conn) {
	if !c.closing {
		l.sel.Deregister(c.c.Fd()) // on io_uring also ends its receive and cancels a send in flight
		c.closing = true
	}
	if c.sending {
		return // the kernel owns c.out until its completion: finish then
	}
	c.c.Close()
	if c.buf != nil {
		l.bufs = append(l.bufs, c.buf)
	}
	l.conns.Remove(tok) // events still queued for it no longer match
	l.stats.Closed.Add(1)
}

func (l *loop) shutdown() {
	for tok, c := range l.conns.All() {
		l.close(tok, c)
	}
	// Ring mode: connections with a send in flight wait for its
	// completion, which no Select will now take; Deregister cancelled the
	// send, and its request holds the file until the kernel is done.
	for _, c := range l.conns.All() {
		c.c.Close()
		l.stats.Closed.Add(1) // closed too: Stats balance (TestSoak saw 8 of 2672 missing)
	}
	l.wake.Close()
	l.sel.Close()
	l.ln.Close()
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
