//go:build unix

package selector_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// FuzzEdgeContract checks that a program following the package's contract
// gets the events it needs, and no more, from every backend. The fuzzer's
// bytes drive a peer (writes of any size, reads, shutdown, close) and an
// application that acts only on events, as an edge-triggered event loop
// must: on a readable event it reads until EAGAIN, or stops at a short
// read unless the event reported the hang-up, and calls
// WouldBlock(fd, Readable); it sends by writing until EAGAIN, or stops
// after a partial write, and calls WouldBlock(fd, Writable), finishing on
// the next writable event. Slots hold AF_UNIX stream socketpairs, loopback
// TCP pairs and pairs of pipes, with small buffers so that writes go
// partial and hit EAGAIN.
//
// The model predicts what must happen: when the peer has written
// everything, shut down its side and read everything the application sent,
// the application has read every byte in order and seen EOF, and the peer
// has every byte the application sent — all through events alone, so a
// lost edge stalls it and fails. And what must not: an event for a token
// not registered; a readable event for a direction not registered; and,
// once nothing happens any more, any event at all (on TCP, a late ACK may
// still free send space, so only data events count there). That last rule
// is what an emulation that re-arms every interest breaks: a socket
// registered Readable|Writable is always writable, so re-arming Writable at
// each drained read reports it again and again.
func FuzzEdgeContract(f *testing.F) {
	f.Add([]byte{0, 0, 3, 4, 0, 2, 1, 0, 3, 4, 1, 5})                                       // small writes, selects
	f.Add([]byte{3, 0, 5, 4, 0, 0, 1, 0, 2, 4, 0, 0, 4, 0, 0})                              // the app sends a lot: partial writes
	f.Add([]byte{0, 1, 5, 4, 1, 0, 2, 1, 5, 4, 1, 0, 5, 1, 0})                              // TCP, big peer writes
	f.Add([]byte{0, 2, 4, 3, 2, 5, 4, 2, 0, 2, 2, 5, 4, 2, 0, 6, 2, 0})                     // pipes
	f.Add([]byte{0, 0, 1, 4, 0, 0, 2, 0, 0, 4, 0, 0, 6, 0, 0, 4, 0, 0})                     // shutdown after data
	f.Add([]byte{3, 1, 5, 0, 1, 4, 4, 1, 0, 7, 1, 0, 4, 1, 0})                              // peer closes with data in flight
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0, 2, 0, 4, 0, 1, 4, 0, 2, 4, 0, 3, 5, 0})               // one-byte reads
	f.Add([]byte{2, 0, 6, 2, 1, 6, 0, 0, 2, 4, 0, 0, 0, 1, 3, 5, 1, 0, 8, 0})               // reads on every event, then quiet
	f.Add([]byte{2, 0, 10, 2, 1, 10, 0, 0, 5, 0, 1, 5, 4, 0, 0, 6, 0, 0, 6, 1, 0, 4, 0, 0}) // echo with blocked sends, then the peer's FIN
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 96 {
			ops = ops[:96] // bounded work per input
		}
		runEdgeModel(t, ops)
	})
}

const edgeSlots = 3

// edgeSlot is one connection: the application's ends (registered) and the
// peer's ends (driven by the fuzzer).
type edgeSlot struct {
	kind           int // 0 socketpair, 1 TCP, 2 pipes
	appR, appW     int // the application reads appR and writes appW (the same socket but for pipes)
	peerR, peerW   int
	tokR, tokW     selector.Token
	rbuf           int  // the application's read size: short reads happen when less is queued
	readOnAny      bool // the application reads on every event, writable ones too (legal, and what breaks a re-arm-all emulation)
	echo           bool // the application sends back what it reads, and stops reading while that send is blocked
	pendingRead    bool // echo: reading stopped for a blocked send, resumed on the writable event
	hupSeen        bool // an event reported the hang-up: read on to EOF whenever reading resumes
	stopAtPartial  bool
	peerSent       int    // bytes the peer has written
	peerPending    int    // bytes the peer still has to write (its socket was full)
	peerShut       bool   // the peer shut down (or closed) its write side
	peerClosed     bool   // the peer closed both ends
	appGot         int    // bytes the application read, checked in order
	appEOF         bool   // the application read EOF or an error
	appReset       bool   // ... an error (ECONNRESET after the peer's close)
	appQueued      int    // bytes the application has to send and has not written yet
	appSent        int    // bytes the application wrote
	peerGot        int    // bytes the peer read, checked in order
	appWantsWrite  bool   // the application is waiting for a writable event
	lastEventProps [2]int // diagnostics: events per direction
}

func runEdgeModel(t *testing.T, ops []byte) {
	s := newSelector(t)
	var slots [edgeSlots]*edgeSlot
	tokens := map[selector.Token]*edgeSlot{}
	for i := range slots {
		sl := newEdgeSlot(t, i, i%3)
		slots[i] = sl
		tokens[sl.tokR] = sl
		if sl.appW != sl.appR {
			tokens[sl.tokW] = sl
			register(t, s, sl.appR, sl.tokR, selector.Readable)
			register(t, s, sl.appW, sl.tokW, selector.Writable)
		} else {
			register(t, s, sl.appR, sl.tokR, selector.Readable|selector.Writable)
		}
	}
	ev := selector.NewEvents(4) // small: more ready than it holds is part of the test
	sizes := [...]int{1, 7, 64, 1000, 9000, 70000}
	rbufs := [...]int{1, 16, 4096, 65536}
	next := func() int {
		if len(ops) == 0 {
			return 0
		}
		b := ops[0]
		ops = ops[1:]
		return int(b)
	}
	dispatch := func(timeout time.Duration) int {
		t.Helper()
		if err := s.Select(ev, timeout); err != nil {
			t.Fatalf("Select: %v", err)
		}
		for e := range ev.All() {
			sl, ok := tokens[e.Token()]
			if !ok {
				t.Fatalf("event for token %d, never registered: %v", e.Token(), e)
			}
			if e.Token() == sl.tokW && sl.tokW != sl.tokR && e.IsReadable() {
				t.Fatalf("readable event for a descriptor registered Writable only: %v", e)
			}
			if e.Token() == sl.tokR && sl.tokW != sl.tokR && e.IsWritable() {
				t.Fatalf("writable event for a descriptor registered Readable only: %v", e)
			}
			sl.onEvent(t, s, e)
		}
		return ev.Len()
	}
	// quiet checks that a program that has taken every edge hears
	// nothing more while nothing happens: two dispatches (the application
	// acts on what they bring), then Selects that must be empty.
	quiet := func(when string) {
		t.Helper()
		dispatch(5 * time.Millisecond)
		dispatch(0)
		for range 3 {
			if err := s.Select(ev, 0); err != nil {
				t.Fatal(err)
			}
			for e := range ev.All() {
				sl := tokens[e.Token()]
				if sl.kind == 1 && !e.IsReadable() && !e.IsReadClosed() && !e.IsError() {
					continue // a late ACK freed TCP send space: new readiness
				}
				t.Fatalf("%s: event with nothing happening (%s, slot kind %d, %+v): %v", when, s.Backend(), sl.kind, *sl, e)
			}
		}
	}
	for len(ops) > 0 {
		op, sl := next()%9, slots[next()%edgeSlots]
		switch op {
		case 0: // the peer writes
			if !sl.peerShut {
				sl.peerPending += sizes[next()%len(sizes)]
				sl.peerFlush(t)
			}
		case 1: // the peer reads
			sl.peerRead(t, sizes[next()%len(sizes)])
		case 2: // how the application reads
			b := next()
			sl.rbuf = rbufs[b%len(rbufs)]
			sl.readOnAny = b&4 != 0
			sl.echo = b&8 != 0
		case 3: // the application sends
			if !sl.appReset {
				sl.appQueued += sizes[next()%len(sizes)]
				sl.stopAtPartial = next()%2 == 0
				sl.appFlush(t, s)
			}
		case 4:
			dispatch(0)
		case 5:
			dispatch(time.Millisecond)
		case 6: // the peer shuts down its side, with nothing left to write
			if sl.peerPending == 0 && !sl.peerShut {
				sl.peerShutdown(t)
			}
		case 7: // the peer goes away: a reset on TCP if data is unread
			if !sl.peerClosed && sl.kind != 2 {
				sl.peerClose()
			}
		case 8:
			quiet("mid-run")
		}
	}
	// Settle: the peer writes what it still has, shuts down, and reads
	// everything; the application runs on events alone.
	deadline := time.Now().Add(5 * time.Second)
	for {
		done := true
		for _, sl := range slots {
			if sl.peerClosed {
				done = done && sl.appEOF
				continue
			}
			sl.peerFlush(t)
			if sl.peerPending == 0 && !sl.peerShut {
				sl.peerShutdown(t)
			}
			sl.peerRead(t, 1<<20)
			if !sl.appEOF || sl.peerPending > 0 || sl.appQueued > 0 || sl.peerGot != sl.appSent {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			for i, sl := range slots {
				t.Logf("slot %d: %+v", i, *sl)
			}
			t.Fatalf("a program following the contract stalled on %s: some event never came", s.Backend())
		}
		dispatch(2 * time.Millisecond)
	}
	for i, sl := range slots {
		if !sl.appReset && sl.appGot != sl.peerSent {
			t.Fatalf("slot %d: the application read %d bytes, the peer wrote %d", i, sl.appGot, sl.peerSent)
		}
	}
	// Quiet: nothing happens any more, so nothing may be reported once the
	// last edges of the settling have been taken.
	quiet("after settling")
}

func newEdgeSlot(t *testing.T, i, kind int) *edgeSlot {
	sl := &edgeSlot{kind: kind, rbuf: 4096, tokR: selector.Token(100 + 2*i), tokW: selector.Token(100 + 2*i)}
	switch kind {
	case 0:
		p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		sl.appR, sl.appW, sl.peerR, sl.peerW = p[0], p[0], p[1], p[1]
	case 1:
		lfd, port := tcpListener(t) // closed at cleanup
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Connect(c, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
			t.Fatal(err)
		}
		a := -1
		for range 3000 {
			if a, _, err = unix.Accept(lfd); err != unix.EAGAIN {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		sl.appR, sl.appW, sl.peerR, sl.peerW = a, a, c, c
		unix.SetsockoptInt(a, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		unix.SetsockoptInt(c, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	case 2:
		var in, out [2]int
		if err := unix.Pipe(in[:]); err != nil {
			t.Fatal(err)
		}
		if err := unix.Pipe(out[:]); err != nil {
			t.Fatal(err)
		}
		sl.appR, sl.peerW, sl.peerR, sl.appW = in[0], in[1], out[0], out[1]
		sl.tokW = sl.tokR + 1
	}
	// One cleanup that closes what is still open: the peer's ends may be
	// closed by the test, and closing a number twice could hit a reused one.
	t.Cleanup(func() {
		for _, fd := range []int{sl.appR, sl.appW, sl.peerR, sl.peerW} {
			if fd >= 0 {
				unix.Close(fd)
			}
			if sl.appW == sl.appR {
				sl.appW = -1
			}
			if sl.peerW == sl.peerR {
				sl.peerW = -1
			}
		}
	})
	nonblockCloexec(t, sl.appR, sl.appW, sl.peerR, sl.peerW)
	if kind != 2 {
		for _, fd := range []int{sl.appR, sl.peerR} {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
		}
	}
	return sl
}

// pattern is the byte at offset i of every stream, so that order and
// integrity are checked, not just counts.
func pattern(i int) byte { return byte(i % 251) }

func fill(buf []byte, off int) {
	for i := range buf {
		buf[i] = pattern(off + i)
	}
}

func (sl *edgeSlot) peerFlush(t *testing.T) {
	buf := make([]byte, 16<<10)
	for sl.peerPending > 0 {
		n := min(len(buf), sl.peerPending)
		fill(buf[:n], sl.peerSent)
		w, err := unix.Write(sl.peerW, buf[:n])
		if err == unix.EAGAIN {
			return
		}
		if err != nil {
			t.Fatalf("peer write: %v", err)
		}
		sl.peerSent += w
		sl.peerPending -= w
	}
}

func (sl *edgeSlot) peerRead(t *testing.T, max int) {
	if sl.peerClosed {
		return
	}
	buf := make([]byte, 16<<10)
	for max > 0 {
		n, err := unix.Read(sl.peerR, buf[:min(len(buf), max)])
		if err == unix.EAGAIN || n == 0 {
			return
		}
		if err != nil {
			t.Fatalf("peer read: %v", err)
		}
		for i, b := range buf[:n] {
			if b != pattern(sl.peerGot+i) {
				t.Fatalf("peer: byte %d is %d, want %d", sl.peerGot+i, b, pattern(sl.peerGot+i))
			}
		}
		sl.peerGot += n
		max -= n
	}
}

func (sl *edgeSlot) peerShutdown(t *testing.T) {
	sl.peerShut = true
	if sl.kind == 2 {
		unix.Close(sl.peerW) // the pipe's writer goes: EOF for the application
		sl.peerW = -1
		return
	}
	if err := unix.Shutdown(sl.peerW, unix.SHUT_WR); err != nil {
		t.Fatalf("peer shutdown: %v", err)
	}
}

// peerClose closes the peer's socket: with data unread on a TCP socket the
// kernel sends a reset (RFC 2525 2.17), which the application sees as
// ECONNRESET.
func (sl *edgeSlot) peerClose() {
	sl.peerClosed, sl.peerShut, sl.peerPending = true, true, 0
	unix.Close(sl.peerW)
	sl.peerR, sl.peerW = -1, -1
}

// onEvent is the application's handling of one event, by the rules.
func (sl *edgeSlot) onEvent(t *testing.T, s *selector.Selector, e *selector.Event) {
	if e.Token() == sl.tokR && (e.IsReadClosed() || e.IsError()) {
		sl.hupSeen = true
	}
	if e.Token() == sl.tokR && (e.IsReadable() || e.IsReadClosed() || e.IsError() || sl.readOnAny) {
		sl.lastEventProps[0]++
		sl.appRead(t, s, e.IsReadClosed() || e.IsError())
	}
	if e.Token() == sl.tokW && (e.IsWritable() || e.IsWriteClosed() || e.IsError()) {
		sl.lastEventProps[1]++
		if sl.appWantsWrite {
			sl.appFlush(t, s)
		}
		if sl.pendingRead && sl.appQueued == 0 { // the echo went out: read on
			sl.pendingRead = false
			sl.appRead(t, s, false)
		}
	}
}

func (sl *edgeSlot) appRead(t *testing.T, s *selector.Selector, hup bool) {
	// The hang-up is reported once: remember it, for reading may stop (a
	// blocked echo) and resume on an event that does not carry it.
	sl.hupSeen = sl.hupSeen || hup
	hup = sl.hupSeen
	if sl.appEOF || sl.pendingRead {
		return
	}
	buf := make([]byte, sl.rbuf)
	for range 1 << 22 { // bounds one-byte reads of what the buffers hold, with room to spare
		n, err := unix.Read(sl.appR, buf)
		switch {
		case err == unix.EAGAIN:
			s.WouldBlock(sl.appR, selector.Readable)
			return
		case err != nil:
			if errors.Is(err, unix.ECONNRESET) && sl.peerClosed {
				sl.appEOF, sl.appReset = true, true
				return
			}
			t.Fatalf("application read: %v", err)
		case n == 0:
			sl.appEOF = true
			return
		}
		for i, b := range buf[:n] {
			if b != pattern(sl.appGot+i) {
				t.Fatalf("application: byte %d is %d, want %d", sl.appGot+i, b, pattern(sl.appGot+i))
			}
		}
		sl.appGot += n
		if sl.echo && !sl.appReset {
			sl.appQueued += n
			sl.appFlush(t, s)
			if sl.appQueued > 0 { // blocked: stop reading until it goes out
				sl.pendingRead = true
				return
			}
		}
		if n < len(buf) && !hup {
			// A short read: drained for now. Not when the event carried
			// the hang-up, whose edge is spent: then read on to EOF.
			s.WouldBlock(sl.appR, selector.Readable)
			return
		}
	}
	t.Fatal("application read: no EAGAIN in 4M reads")
}

func (sl *edgeSlot) appFlush(t *testing.T, s *selector.Selector) {
	buf := make([]byte, 16<<10)
	for sl.appQueued > 0 {
		n := min(len(buf), sl.appQueued)
		fill(buf[:n], sl.appSent)
		w, err := unix.Write(sl.appW, buf[:n])
		switch {
		case err == unix.EAGAIN:
			sl.appWantsWrite = true
			s.WouldBlock(sl.appW, selector.Writable)
			return
		case err != nil:
			if sl.peerClosed && (errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNRESET)) {
				sl.appQueued, sl.appWantsWrite = 0, false
				return
			}
			t.Fatalf("application write: %v", err)
		}
		sl.appSent += w
		sl.appQueued -= w
		if w < n && sl.stopAtPartial {
			sl.appWantsWrite = true
			s.WouldBlock(sl.appW, selector.Writable)
			return
		}
	}
	sl.appWantsWrite = false
}

func (sl *edgeSlot) String() string { return fmt.Sprintf("%+v", *sl) }
