//go:build linux && (amd64 || arm64)

package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak runs the server under churn for SOAK_TIME (default 3s) with
// SOAK_CONNS client goroutines (default 64), each opening connection after
// connection, and each connection one of: keep-alive batches of 1 to 16
// pipelined requests (some with bodies to discard, some sent in random
// pieces), every answer checked; requests then a half-close, answers then
// EOF; requests then a reset (SO_LINGER 0) with answers unread; garbage
// (400, then EOF); an oversized head (431, then EOF); Connection: close or
// HTTP/1.0 (200, then EOF); a connection abandoned mid-request. At the
// end: no client error, the server closed every connection it accepted on
// its own (before Close), its descriptors are back to where they were
// after it started, and after Close to where they were before it. A panic
// anywhere fails the test binary. make soak runs it for 60s with 2,000.
func TestSoak(t *testing.T) {
	dur, conns := 3*time.Second, 64
	if v := os.Getenv("SOAK_TIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOAK_TIME: %v", err)
		}
		dur = d
	}
	if v := os.Getenv("SOAK_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("SOAK_CONNS: %v", err)
		}
		conns = n
	}
	if l, err := net.Listen("tcp4", "127.0.0.1:0"); err == nil {
		l.Close() // the net package's poller opens its descriptors on first use
	}
	fdBefore := countFds(t)
	srv, err := NewServer(Config{Addr: [4]byte{127, 0, 0, 1}, Loops: 2, Linger: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { srv.Serve(); close(served) }()
	fdServer := countFds(t)
	backend := srv.Backend()

	var st soakStats
	end := time.Now().Add(dur)
	var wg sync.WaitGroup
	var failures atomic.Int64
	for g := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 12))
			for time.Now().Before(end) {
				if err := soakSession(srv.addr(), r, &st); err != nil {
					if failures.Add(1) <= 10 {
						t.Errorf("client %d: %v", g, err)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	leakErr := srv.waitClosed()
	fdIdle := countFds(t)
	srv.Close()
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of Close")
	}
	fdAfter := countFds(t)
	accepted, closed, reqs, partial, _ := srv.totals()
	t.Logf("soak on %s: %v, %d clients, %d sessions (%d keep-alive, %d half-closed, %d reset, %d garbage, %d oversized, %d closing, %d abandoned), %d requests answered, %d checked by clients, %d partial writes; server accepted=%d closed=%d; fds before=%d server=%d idle=%d after=%d",
		backend, dur, conns, st.sessions.Load(), st.keepAlive.Load(), st.halfClose.Load(), st.reset.Load(), st.garbage.Load(), st.oversized.Load(),
		st.closing.Load(), st.abandoned.Load(), reqs, st.checked.Load(), partial, accepted, closed, fdBefore, fdServer, fdIdle, fdAfter)
	switch {
	case failures.Load() > 0:
		t.Fatalf("%d clients failed", failures.Load())
	case leakErr != nil:
		t.Fatal(leakErr)
	case st.checked.Load() == 0:
		t.Fatal("no traffic")
	case int64(accepted) != st.sessions.Load():
		t.Fatalf("server accepted %d connections for %d client sessions", accepted, st.sessions.Load())
	case fdIdle != fdServer:
		t.Fatalf("descriptors: %d with the server started, %d once every client was gone", fdServer, fdIdle)
	case fdAfter != fdBefore:
		t.Fatalf("descriptors: %d before the server, %d after Close", fdBefore, fdAfter)
	}
}

type soakStats struct {
	sessions, checked                                                   atomic.Int64
	keepAlive, halfClose, reset, garbage, oversized, closing, abandoned atomic.Int64
}

// soakRequest is a random request the server answers 200 (or 405 for a
// POST with a body), with what the answer must be.
func soakRequest(r *rand.Rand) (req, path string, status int) {
	path = "/plaintext"
	if r.IntN(2) == 0 {
		path = "/json"
	}
	switch r.IntN(8) {
	case 0:
		body := strings.Repeat("b", r.IntN(5000))
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body), path, 405
	case 1:
		return "POST " + path + " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n", path, 405
	}
	return get(path), path, 200
}

// send writes b whole or in random pieces.
func send(c net.Conn, r *rand.Rand, b string) error {
	if r.IntN(3) != 0 {
		_, err := io.WriteString(c, b)
		return err
	}
	for len(b) > 0 {
		k := min(len(b), 1+r.IntN(200))
		if _, err := io.WriteString(c, b[:k]); err != nil {
			return err
		}
		b = b[k:]
	}
	return nil
}

// batch sends depth pipelined requests and returns what their answers
// must be.
func batch(c net.Conn, r *rand.Rand, depth int) (paths []string, status []int, err error) {
	var b strings.Builder
	for range depth {
		req, p, s := soakRequest(r)
		b.WriteString(req)
		paths, status = append(paths, p), append(status, s)
	}
	return paths, status, send(c, r, b.String())
}

func readBatch(br *bufio.Reader, paths []string, status []int, st *soakStats) error {
	for i, p := range paths {
		resp, err := readResponse(br, "GET")
		if err != nil {
			return fmt.Errorf("answer %d of %d: %w", i, len(paths), err)
		}
		if status[i] == 200 {
			err = checkOK(resp, p, false)
		} else if resp.status != status[i] {
			err = fmt.Errorf("status %d, want %d", resp.status, status[i])
		}
		if err != nil {
			return fmt.Errorf("answer %d of %d: %w", i, len(paths), err)
		}
		st.checked.Add(1)
	}
	return nil
}

func soakSession(addr string, r *rand.Rand, st *soakStats) error {
	c, err := net.DialTimeout("tcp4", addr, 10*time.Second)
	if err != nil {
		return err
	}
	st.sessions.Add(1)
	tc := c.(*net.TCPConn)
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(30 * time.Second)) // a stuck connection fails, it does not hang
	br := bufio.NewReader(tc)
	expectStatusThenEOF := func(what string, want int) error {
		resp, err := readResponse(br, "GET")
		if err != nil || resp.status != want || !resp.close {
			return fmt.Errorf("%s: %d close=%v %v, want %d and close", what, resp.status, resp.close, err, want)
		}
		st.checked.Add(1)
		if err := expectEOF(br); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	switch mode := r.IntN(10); mode {
	case 0, 1, 2, 3: // keep-alive batches
		st.keepAlive.Add(1)
		for range 1 + r.IntN(8) {
			paths, status, err := batch(tc, r, 1+r.IntN(16))
			if err != nil {
				return err
			}
			if err := readBatch(br, paths, status, st); err != nil {
				return err
			}
		}
	case 4: // requests, then a half-close: every answer, then EOF
		st.halfClose.Add(1)
		paths, status, err := batch(tc, r, 1+r.IntN(16))
		if err != nil {
			return err
		}
		if err := tc.CloseWrite(); err != nil {
			return err
		}
		if err := readBatch(br, paths, status, st); err != nil {
			return fmt.Errorf("after a half-close: %w", err)
		}
		if err := expectEOF(br); err != nil {
			return fmt.Errorf("after a half-close: %w", err)
		}
	case 5: // requests, some answers read, then a reset
		st.reset.Add(1)
		paths, status, err := batch(tc, r, 1+r.IntN(16))
		if err != nil {
			return err
		}
		k := r.IntN(len(paths) + 1)
		if err := readBatch(br, paths[:k], status[:k], st); err != nil {
			return err
		}
		tc.SetLinger(0)
	case 6: // garbage
		st.garbage.Add(1)
		g := make([]byte, 1+r.IntN(3000))
		for i := range g {
			g[i] = byte(r.Uint32())
		}
		g[0] = 1 // never a token character: a 400 at once
		if err := send(tc, r, string(g)+"\r\n\r\n"); err != nil {
			return err
		}
		return expectStatusThenEOF("garbage", 400)
	case 7: // a head over 8 KiB, ending or not
		st.oversized.Add(1)
		head := "GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("x", 8200+r.IntN(8000))
		if r.IntN(2) == 0 {
			head += "\r\n\r\n"
		}
		if err := send(tc, r, head); err != nil {
			return err
		}
		return expectStatusThenEOF("oversized head", 431)
	case 8: // Connection: close or HTTP/1.0, after some keep-alive requests
		st.closing.Add(1)
		paths, status, err := batch(tc, r, r.IntN(4))
		if err != nil {
			return err
		}
		last := "GET /plaintext HTTP/1.0\r\n\r\n"
		if r.IntN(2) == 0 {
			last = "GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
		}
		if err := send(tc, r, last+get("/json")); err != nil {
			return err
		}
		if err := readBatch(br, paths, status, st); err != nil {
			return err
		}
		return expectStatusThenEOF("the closing request", 200)
	case 9: // abandoned mid-request (or before a byte)
		st.abandoned.Add(1)
		req, _, _ := soakRequest(r)
		if err := send(tc, r, req[:r.IntN(len(req))]); err != nil {
			return err
		}
		if r.IntN(2) == 0 {
			tc.SetLinger(0)
		}
	}
	return nil
}
