//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock_test

import (
	"net/netip"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

// allocs runs f under testing.AllocsPerRun with the GC off and fails on
// any allocation. f runs runs+1 times (one warm-up).
func allocs(t *testing.T, what string, runs int, f func()) {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if n := testing.AllocsPerRun(runs, f); n != 0 {
		t.Errorf("%s: %v allocations per run, want 0", what, n)
	}
}

func TestAllocsAccept(t *testing.T) {
	families(t, func(t *testing.T, addr netip.AddrPort) {
		l := listen(t, addr)
		const runs = 100
		// The clients connect before the measurement: one per run.
		clients := make([]*sock.Conn, 0, runs+1)
		for range runs + 1 {
			c, err := sock.Dial(l.Addr())
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
		}
		defer func() {
			for _, c := range clients {
				c.Close()
			}
		}()
		var c sock.Conn
		deadline := time.Now().Add(10 * time.Second)
		accepted := 0
		allocs(t, "Accept + Close", runs, func() {
			for time.Now().Before(deadline) {
				peer, err := l.Accept(&c)
				if err == nil {
					if peer.Port() != 0 {
						accepted++
					}
					c.Close()
					return
				}
				if err != syscall.EAGAIN {
					t.Fatal(err)
				}
			}
		})
		if accepted != runs+1 {
			t.Fatalf("accepted %d, want %d", accepted, runs+1)
		}
		allocs(t, "Accept with nothing pending (EAGAIN)", runs, func() {
			if _, err := l.Accept(&c); err != syscall.EAGAIN {
				t.Fatal(err)
			}
		})
	})
}

func TestAllocsStream(t *testing.T) {
	s := newSelector(t)
	l := listen(t, lo4)
	client, server := connectPair(t, s, l)
	msg := make([]byte, 64)
	buf := make([]byte, 256)
	out := [][]byte{msg[:16], msg[16:32], msg[32:48], msg[48:]}
	in := [][]byte{buf[:64], buf[64:128], buf[128:192], buf[192:]}
	many := make([][]byte, 40) // the chunked path
	for i := range many {
		many[i] = msg[:1]
	}
	manyIn := make([][]byte, 40)
	for i := range manyIn {
		manyIn[i] = buf[i : i+1]
	}
	read := func(want int) {
		for got, deadline := 0, time.Now().Add(5*time.Second); got < want && time.Now().Before(deadline); {
			n, err := server.Read(buf)
			if err == nil {
				got += n
			}
		}
	}
	allocs(t, "Write + Read", 200, func() {
		if n, err := client.Write(msg); n != 64 || err != nil {
			t.Fatal(n, err)
		}
		read(64)
	})
	allocs(t, "Writev + Readv (4 buffers)", 200, func() {
		if n, err := client.Writev(out); n != 64 || err != nil {
			t.Fatal(n, err)
		}
		for got, deadline := 0, time.Now().Add(5*time.Second); got < 64 && time.Now().Before(deadline); {
			if n, err := server.Readv(in); err == nil {
				got += n
			}
		}
	})
	allocs(t, "Writev + Readv (40 buffers)", 200, func() {
		if n, err := client.Writev(many); n != 40 || err != nil {
			t.Fatal(n, err)
		}
		for got, deadline := 0, time.Now().Add(5*time.Second); got < 40 && time.Now().Before(deadline); {
			if n, err := server.Readv(manyIn); err == nil {
				got += n
			}
		}
	})
	allocs(t, "Read of a drained socket (EAGAIN) + WouldBlock", 200, func() {
		if _, err := server.Read(buf); err != syscall.EAGAIN {
			t.Fatal(err)
		}
		s.WouldBlock(server.Fd(), selector.Readable)
	})
}

func TestAllocsDatagram(t *testing.T) {
	a := listenUDP(t, lo4)
	b := listenUDP(t, lo4)
	to := b.LocalAddr()
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	recv := func() {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			if _, from, err := b.ReadFrom(buf); err == nil {
				if from.Port() == 0 {
					t.Fatal("no sender")
				}
				return
			}
		}
		t.Fatal("no datagram")
	}
	allocs(t, "WriteTo + ReadFrom", 200, func() {
		if _, err := a.WriteTo(msg, to); err != nil {
			t.Fatal(err)
		}
		recv()
	})
	out := make([]sock.Message, 16)
	in := make([]sock.Message, 16)
	for i := range out {
		out[i] = sock.Message{Buf: msg, Addr: to}
		in[i].Buf = make([]byte, 64)
	}
	allocs(t, "WriteBatch + ReadBatch (16 x 64 B)", 200, func() {
		for sent := 0; sent < len(out); {
			n, err := a.WriteBatch(out[sent:])
			if err != nil && err != syscall.EAGAIN {
				t.Fatal(err)
			}
			sent += n
		}
		for got, deadline := 0, time.Now().Add(5*time.Second); got < len(in) && time.Now().Before(deadline); {
			n, err := b.ReadBatch(in[got:])
			if err == nil {
				got += n
			}
		}
	})
	// Connected Read/Write.
	c, err := sock.DialUDP(to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	allocs(t, "UDP Write + Read", 200, func() {
		c.Write(msg)
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			if _, err := b.Read(buf); err == nil {
				return
			}
		}
	})
}

func TestAllocsSlab(t *testing.T) {
	type state struct {
		c   sock.Conn
		buf []byte
	}
	var s sock.Slab[state]
	// Grow once, then steady state: insert, get, remove.
	var live []selector.Token
	for range 600 {
		tok, _ := s.Alloc()
		live = append(live, tok)
	}
	for _, tok := range live {
		s.Remove(tok)
	}
	var sum int
	allocs(t, "Slab Alloc + Get + Insert + Remove", 1000, func() {
		tok, p := s.Alloc()
		p.buf = nil
		if s.Get(tok) != p || p.c.Fd() != -1 {
			t.Fatal("Get")
		}
		tok2 := s.Insert(state{})
		s.Remove(tok)
		s.Remove(tok2)
		for range s.All() {
			sum++
		}
	})
}
