//go:build linux && (amd64 || arm64)

package main

import (
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rawpoll/rawpoll/examples/httpd/http1"
	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

// Buffer sizes. A connection's input buffer starts at inStart and grows,
// when a read would have less than minRead bytes of room, up to inMax:
// a request head of MaxHeaderBytes plus a pipelined batch after it.
// Nothing more is ever needed, since bodies are discarded as they arrive
// and a head longer than MaxHeaderBytes is a 431.
const (
	inStart  = 4 << 10
	inMax    = http1.MaxHeaderBytes + 8<<10
	minRead  = 1 << 10
	outStart = 4 << 10
	outKeep  = 64 << 10 // output buffers that grew beyond this are not pooled
)

// Config is the server's configuration; zero fields take the defaults.
type Config struct {
	Addr  [4]byte // IPv4 address to listen on
	Port  int     // 0 picks a free port (shared by every loop's listener)
	Loops int     // event loops, one per locked OS thread (default GOMAXPROCS)
	// MaxQueued is how much output may wait for the socket before the
	// connection's reading pauses (default 64 KiB); reading resumes when
	// the queue is back under it.
	MaxQueued int
	// Linger bounds the lingering close (default 2s): after its last
	// response a connection is half-closed and its input discarded until
	// the client closes, or this long (RFC 9112 9.6).
	Linger time.Duration
	// SndBuf sets SO_SNDBUF on accepted sockets (0: the kernel's); tests
	// shrink it to force partial writes.
	SndBuf int
}

// Server is an HTTP/1.1 server for TechEmpower's plaintext and json tests:
// Loops event loops, each on its own locked OS thread with its own
// selector and its own SO_REUSEPORT listener on the same port (the kernel
// spreads connections over them), and its own connections.
type Server struct {
	cfg      Config
	port     int
	loops    []*loop
	wg       sync.WaitGroup
	lnClosed sync.WaitGroup // every loop's listener is closed: connections go next
	stopping atomic.Bool
	started  atomic.Bool // Serve ran, or Close came first
}

// Stats are a loop's counters, written by the loop and read by anyone.
type Stats struct {
	Accepted, Closed atomic.Uint64
	Requests         atomic.Uint64 // requests answered (bad ones included)
	PartialWrites    atomic.Uint64 // writes the socket took only part of (or none of)
	Pauses           atomic.Uint64 // times a connection's reading paused on queued output
	AcceptErrors     atomic.Uint64 // EMFILE, ENFILE and the like: accepting backs off
}

// The loop's own tokens are below 1<<32, which sock.Slab never issues.
const (
	listenerToken = selector.Token(0)
	wakeToken     = selector.Token(1)
)

// acceptBackoff is how long accepting pauses after EMFILE or ENFILE (the
// connection stays queued and the listener will not report it again).
const acceptBackoff = 20 * time.Millisecond

type conn struct {
	c    sock.Conn
	p    proto
	wpos int // out[wpos:] is what the socket has not taken yet

	hup        bool // the event reported read-closed or an error: read on to EOF
	readArmed  bool // drained, WouldBlock(Readable) called: wait for a readable event
	writeArmed bool // the socket took less than asked, WouldBlock(Writable) called: wait for a writable event
	eof        bool // the client shut down writing: close once out is written
	paused     bool // reading stopped while out is over MaxQueued
	lingering  bool // half-closed after the last response: input discarded
}

func (c *conn) queued() int { return len(c.p.out) - c.wpos }

type lingerEntry struct {
	tok      selector.Token
	deadline time.Time
}

type loop struct {
	srv   *Server
	sel   *selector.Selector
	wake  *selector.Waker
	ln    *sock.Listener
	conns sock.Slab[conn]
	date  http1.Date
	now   time.Time // read once per Select batch

	inPool, outPool [][]byte // buffers of closed connections, for the next ones
	linger          []lingerEntry
	lingerHead      int
	acceptRetry     time.Time // non-zero: accept again then (after EMFILE)

	stats Stats
}

// NewServer binds every loop's listener; Serve runs the loops.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Loops <= 0 {
		cfg.Loops = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 64 << 10
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 2 * time.Second
	}
	s := &Server{cfg: cfg, port: cfg.Port}
	for range cfg.Loops {
		l, err := s.newLoop()
		if err != nil {
			for _, l := range s.loops {
				l.release()
			}
			return nil, err
		}
		s.loops = append(s.loops, l)
	}
	return s, nil
}

// Port is the port every listener is bound to.
func (s *Server) Port() int { return s.port }

// Backend names the selectors' kernel mechanism (epoll, io_uring, poll).
func (s *Server) Backend() string { return s.loops[0].sel.Backend() }

func (s *Server) newLoop() (*loop, error) {
	addr := netip.AddrPortFrom(netip.AddrFrom4(s.cfg.Addr), uint16(s.port))
	ln, err := sock.Listen(addr, sock.ReusePort(), sock.Backlog(4096))
	if err != nil {
		return nil, err
	}
	s.port = int(ln.Addr().Port()) // port 0: the next loops share the one picked
	sel, err := selector.New()
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("selector: %w", err)
	}
	l := &loop{srv: s, sel: sel, ln: ln}
	if err := sel.Register(ln.Fd(), listenerToken, selector.Readable); err != nil {
		l.release()
		return nil, fmt.Errorf("register listener: %w", err)
	}
	if l.wake, err = selector.NewWaker(sel, wakeToken); err != nil {
		l.release()
		return nil, fmt.Errorf("waker: %w", err)
	}
	l.now = time.Now()
	l.date.Refresh(l.now)
	return l, nil
}

// Serve runs every loop on its own locked OS thread and returns when Close
// has stopped them all. It runs once: a second call, or a call after
// Close, returns at once.
func (s *Server) Serve() {
	if !s.started.CompareAndSwap(false, true) {
		return
	}
	s.lnClosed.Add(len(s.loops))
	for _, l := range s.loops {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			// An event loop owns its thread: the selector's waits and
			// (on io_uring) the ring's completion work stay on it.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			l.run()
		}()
	}
	s.wg.Wait()
}

// Close stops the server: every loop deregisters and closes its listener,
// so no connection is accepted any more; once all listeners are closed
// the loops close their connections and return, and Serve returns. A
// server never served is released at once.
func (s *Server) Close() {
	s.stopping.Store(true)
	if s.started.CompareAndSwap(false, true) {
		for _, l := range s.loops {
			l.release()
		}
		return
	}
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

func (l *loop) run() {
	events := selector.NewEvents(512)
	for !l.srv.stopping.Load() {
		if err := l.sel.Select(events, l.timeout()); err != nil {
			fmt.Println("httpd: select:", err)
			break
		}
		// One clock read per batch: the Date header (formatted when the
		// second changes) and the deadlines use it.
		l.now = time.Now()
		l.date.Refresh(l.now)
		for ev := range events.All() {
			switch tok := ev.Token(); tok {
			case listenerToken:
				l.acceptAll()
			case wakeToken:
			default:
				l.event(tok, ev)
			}
		}
		l.timers()
	}
	l.stop()
}

// timeout is how long Select may wait: until the next deadline (an
// accept retry, the oldest lingering connection), or for ever.
func (l *loop) timeout() time.Duration {
	var next time.Time
	if l.lingerHead < len(l.linger) {
		next = l.linger[l.lingerHead].deadline
	}
	if !l.acceptRetry.IsZero() && (next.IsZero() || l.acceptRetry.Before(next)) {
		next = l.acceptRetry
	}
	if next.IsZero() {
		return -1
	}
	return max(next.Sub(l.now), 0)
}

// timers closes lingering connections whose time is up and retries an
// accept that EMFILE stopped.
func (l *loop) timers() {
	for l.lingerHead < len(l.linger) && !l.now.Before(l.linger[l.lingerHead].deadline) {
		e := l.linger[l.lingerHead]
		l.linger[l.lingerHead] = lingerEntry{}
		l.lingerHead++
		if c := l.conns.Get(e.tok); c != nil && c.lingering { // nil: closed meanwhile
			l.close(e.tok, c)
		}
	}
	if l.lingerHead == len(l.linger) {
		l.linger, l.lingerHead = l.linger[:0], 0
	}
	if !l.acceptRetry.IsZero() && !l.now.Before(l.acceptRetry) {
		l.acceptRetry = time.Time{}
		l.acceptAll()
	}
}

// stop closes the listener (deregistered first), waits until every loop
// has closed its own, then closes the connections and the selector.
func (l *loop) stop() {
	l.sel.Deregister(l.ln.Fd())
	l.ln.Close()
	l.srv.lnClosed.Done()
	l.srv.lnClosed.Wait()
	for tok, c := range l.conns.All() {
		l.close(tok, c)
	}
	l.release()
}

func (l *loop) release() {
	if l.ln != nil {
		l.ln.Close()
	}
	if l.wake != nil {
		l.wake.Close()
	}
	l.sel.Close()
}

// acceptAll accepts until EAGAIN (the listener is edge-triggered), each
// connection straight into a Slab slot, with buffers from the pool.
func (l *loop) acceptAll() {
	for {
		tok, c := l.conns.Alloc()
		if _, err := l.ln.Accept(&c.c); err != nil {
			l.conns.Remove(tok)
			if err == syscall.EAGAIN {
				l.sel.WouldBlock(l.ln.Fd(), selector.Readable) // drained: re-arm (the poll backend needs it)
			} else if !l.srv.stopping.Load() {
				// EMFILE, ENFILE: the connection stays queued and the
				// listener will not report it again; accept again after a
				// pause, without WouldBlock (sock.Listener.Accept's doc).
				l.stats.AcceptErrors.Add(1)
				l.acceptRetry = l.now.Add(acceptBackoff)
			}
			return
		}
		c.c.SetNoDelay(true)
		if l.srv.cfg.SndBuf > 0 {
			c.c.SetSendBuffer(l.srv.cfg.SndBuf)
		}
		c.p.in, c.p.out = l.buffers()
		if err := l.sel.Register(c.c.Fd(), tok, selector.Readable|selector.Writable); err != nil {
			l.close(tok, c)
			continue
		}
		l.stats.Accepted.Add(1)
	}
}

func (l *loop) buffers() (in, out []byte) {
	if n := len(l.inPool); n > 0 {
		in, l.inPool = l.inPool[n-1], l.inPool[:n-1]
	} else {
		in = make([]byte, 0, inStart)
	}
	if n := len(l.outPool); n > 0 {
		out, l.outPool = l.outPool[n-1], l.outPool[:n-1]
	} else {
		out = make([]byte, 0, outStart)
	}
	return in, out
}

func (l *loop) close(tok selector.Token, c *conn) {
	l.sel.Deregister(c.c.Fd()) // before Close: the package rule
	c.c.Close()
	if c.p.in != nil {
		l.inPool = append(l.inPool, c.p.in[:0])
	}
	if c.p.out != nil && cap(c.p.out) <= outKeep {
		l.outPool = append(l.outPool, c.p.out[:0])
	}
	l.conns.Remove(tok) // events still queued for it no longer match
	l.stats.Closed.Add(1)
}

// event handles a connection's event: what the event reports is noted,
// then serve moves the connection on as far as it can without waiting.
func (l *loop) event(tok selector.Token, ev *selector.Event) {
	c := l.conns.Get(tok)
	if c == nil {
		return // an event for a connection already closed
	}
	if ev.IsReadClosed() || ev.IsError() {
		c.hup = true // reported once: read to EOF from now on
	}
	if ev.IsReadable() || c.hup {
		c.readArmed = false
	}
	if ev.IsWritable() || ev.IsWriteClosed() || ev.IsError() {
		c.writeArmed = false
	}
	l.serve(tok, c)
}

// serve writes what is queued, then reads, answers and writes until the
// connection must wait: for a readable event (the reads ran dry), for a
// writable event (output the socket did not take), or for nothing (closed).
// Every read's responses go out in one write.
func (l *loop) serve(tok selector.Token, c *conn) {
	for {
		if c.queued() > 0 && !c.writeArmed {
			if err := l.flush(c); err != nil {
				l.close(tok, c) // EPIPE, ECONNRESET: no SIGPIPE (sock writes with MSG_NOSIGNAL)
				return
			}
		}
		if c.queued() > 0 && (c.queued() > l.srv.cfg.MaxQueued || c.p.done || c.eof) {
			// Wait for Writable. A connection whose output backs up
			// stops being read (its client is not reading), and one
			// whose last response is queued has nothing more to read.
			if !c.paused && !c.p.done && !c.eof {
				c.paused = true
				l.stats.Pauses.Add(1)
			}
			return
		}
		c.paused = false
		switch {
		case c.eof: // the client is done and has every answer
			if c.queued() == 0 {
				l.close(tok, c)
			}
			return
		case c.p.done: // the last response is written
			l.lingerClose(tok, c)
			return
		case c.readArmed:
			return
		}
		p := &c.p
		if cap(p.in)-len(p.in) < minRead && cap(p.in) < inMax {
			in := make([]byte, len(p.in), min(2*cap(p.in), inMax))
			copy(in, p.in)
			p.in = in
		}
		room := p.in[len(p.in):cap(p.in)]
		n, err := c.c.Read(room)
		if n > 0 {
			p.in = p.in[:len(p.in)+n]
			l.stats.Requests.Add(uint64(p.process(&l.date)))
			if n < len(room) && !c.hup {
				// A short read on a stream socket: the receive queue is
				// empty, and edge triggering reports the next arrival.
				c.readArmed = true
				l.sel.WouldBlock(c.c.Fd(), selector.Readable)
			}
			continue // write this read's answers, then read on (or wait)
		}
		switch err {
		case syscall.EAGAIN:
			c.readArmed = true
			l.sel.WouldBlock(c.c.Fd(), selector.Readable)
		case io.EOF:
			c.eof = true // answers still queued are written first
		default: // ECONNRESET and the like: nobody to answer
			l.close(tok, c)
			return
		}
	}
}

// flush writes out[wpos:] with one write. After a partial write or EAGAIN
// it re-arms Writable: the rest waits for the writable event, and more
// answers may be appended meanwhile. An error means the connection is
// gone.
func (l *loop) flush(c *conn) error {
	out := c.p.out
	n, err := c.c.Write(out[c.wpos:])
	if c.wpos += n; c.wpos == len(out) {
		c.p.out, c.wpos = out[:0], 0
		return nil
	}
	if err != nil && err != syscall.EAGAIN {
		return err
	}
	l.stats.PartialWrites.Add(1)
	c.writeArmed = true
	l.sel.WouldBlock(c.c.Fd(), selector.Writable)
	if c.wpos >= len(out)/2 { // what was written makes room, amortised
		c.p.out, c.wpos = out[:copy(out, out[c.wpos:])], 0
	}
	return nil
}

// lingerClose ends a connection whose last response is written: the write
// side is shut (the client reads EOF after the response) and the input is
// read and discarded until the client closes, or until Linger has passed.
// Closing at once would make the kernel answer the client's unread
// requests with an RST, which can destroy the response before the client
// reads it (RFC 9112 9.6: a server closes in stages, reading on after a
// half-close).
func (l *loop) lingerClose(tok selector.Token, c *conn) {
	if !c.lingering {
		c.lingering = true
		if c.c.Shutdown(sock.ShutWrite) != nil {
			l.close(tok, c)
			return
		}
		l.linger = append(l.linger, lingerEntry{tok, l.now.Add(l.srv.cfg.Linger)})
	}
	buf := c.p.in[:cap(c.p.in)]
	for !c.readArmed {
		n, err := c.c.Read(buf)
		switch {
		case n > 0 && (n == len(buf) || c.hup):
			continue
		case n > 0 || err == syscall.EAGAIN:
			c.readArmed = true
			l.sel.WouldBlock(c.c.Fd(), selector.Readable)
		default: // EOF or an error: the client has closed
			l.close(tok, c)
			return
		}
	}
}
