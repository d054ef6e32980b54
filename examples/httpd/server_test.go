//go:build linux && (amd64 || arm64)

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestNetHTTPClient: net/http's client, keep-alive, 200 sequential
// requests alternating /plaintext and /json (and a few HEADs) on one
// connection: status, Server, Date, Content-Type, Content-Length, bodies.
func TestNetHTTPClient(t *testing.T) {
	srv := startServer(t, Config{})
	tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i := range 200 {
		path, method := "/plaintext", "GET"
		if i%2 == 1 {
			path = "/json"
		}
		if i%10 == 9 {
			method = "HEAD"
		}
		req, _ := http.NewRequest(method, "http://"+srv.addr()+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("request %d: body: %v", i, err)
		}
		r := response{resp.StatusCode, resp.Header, string(body), resp.Close}
		if err := checkOK(r, path, method == "HEAD"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if r.close {
			t.Fatalf("request %d: the server closes a keep-alive connection", i)
		}
	}
	if a, _, n, _, _ := srv.totals(); a != 1 || n != 200 {
		t.Fatalf("server accepted %d connections and answered %d requests, want 1 and 200 (keep-alive)", a, n)
	}
	// Errors through the same client: 404 and 405 keep the connection.
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/nope", 404}, {"POST", "/plaintext", 405}, {"DELETE", "/json", 405}} {
		req, _ := http.NewRequest(c.method, "http://"+srv.addr()+c.path, strings.NewReader("a body to discard"))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Server") == "" || checkDate(resp.Header.Get("Date")) != nil {
			t.Fatalf("%s %s: %d %v, want %d", c.method, c.path, resp.StatusCode, resp.Header, c.status)
		}
	}
	if a, _, _, _, _ := srv.totals(); a != 1 {
		t.Fatalf("server accepted %d connections: 404 or 405 closed one", a)
	}
}

// TestPipelined16: 16 requests in one write, mixed paths, answered in
// order; then the same connection goes on.
func TestPipelined16(t *testing.T) {
	srv := startServer(t, Config{})
	c, br := dial(t, srv)
	paths := make([]string, 16)
	var b strings.Builder
	for i := range paths {
		paths[i] = "/plaintext"
		if i*7%3 == 0 {
			paths[i] = "/json"
		}
		b.WriteString(get(paths[i]))
	}
	for round := range 3 {
		if _, err := io.WriteString(c, b.String()); err != nil {
			t.Fatal(err)
		}
		for i, p := range paths {
			r, err := readResponse(br, "GET")
			if err != nil {
				t.Fatalf("round %d answer %d: %v", round, i, err)
			}
			if err := checkOK(r, p, false); err != nil {
				t.Fatalf("round %d answer %d: %v", round, i, err)
			}
		}
	}
}

// TestSplitAtEveryByte: a short sequence (GET, POST with a body, a
// chunked POST, HEAD, json) sent in two writes cut at every offset, on one
// connection, gets every answer in order. The pause between the writes
// makes the server read them apart most of the time (nothing asserts it).
func TestSplitAtEveryByte(t *testing.T) {
	srv := startServer(t, Config{})
	c, br := dial(t, srv)
	for k := 1; k < len(sequence); k++ {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, sequence[:k]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond)
		if _, err := io.WriteString(c, sequence[k:]); err != nil {
			t.Fatal(err)
		}
		for i, a := range sequenceAnswers {
			r, err := readResponse(br, a.method)
			if err != nil || r.status != a.status {
				t.Fatalf("cut at %d, answer %d: %d %v, want %d", k, i, r.status, err, a.status)
			}
		}
	}
	if _, _, n, _, _ := srv.totals(); n != uint64((len(sequence)-1)*len(sequenceAnswers)) {
		t.Fatalf("server answered %d requests", n)
	}
}

// TestBadInput: the bad-input table through a real socket. Each case
// sends its bytes and reads the answers in order; then either the server
// has closed (EOF, no reset) or the connection still serves a request.
func TestBadInput(t *testing.T) {
	long := "GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Long: " + strings.Repeat("x", 9000) + "\r\n\r\n"
	many := "GET /plaintext HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-Header: some value\r\n", 400) + "\r\n"
	endless := "GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Long: " + strings.Repeat("x", 20000)
	bigBody := "POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n" + strings.Repeat("b", 1<<20) + get("/json")
	cases := []struct {
		name   string
		send   string
		want   []int
		closes bool
	}{
		{"request line without target", "GET\r\n\r\n", []int{400}, true},
		{"two spaces in the request line", "GET  /plaintext HTTP/1.1\r\nHost: a\r\n\r\n", []int{400}, true},
		{"binary garbage", "\x01\x02\x03\xff\r\n\r\n", []int{400}, true},
		{"bad protocol", "GET /plaintext HTTX/1.1\r\nHost: a\r\n\r\n", []int{400}, true},
		{"header without colon", "GET /plaintext HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", []int{400}, true},
		{"space before colon", "GET /plaintext HTTP/1.1\r\nHost : a\r\n\r\n", []int{400}, true},
		{"obs-fold", "GET /plaintext HTTP/1.1\r\nHost: a\r\nX: b\r\n folded\r\n\r\n", []int{400}, true},
		{"control byte in a value", "GET /plaintext HTTP/1.1\r\nHost: a\x00b\r\n\r\n", []int{400}, true},
		{"bare CR", "GET /plaintext HTTP/1.1\rHost: a\r\n\r\n", []int{400}, true},
		{"HTTP/1.1 without Host", "GET /plaintext HTTP/1.1\r\n\r\n", []int{400}, true},
		{"bad Content-Length", "POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", []int{400}, true},
		{"Content-Length and chunked", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", []int{400}, true},
		{"HTTP/2.0", "GET /plaintext HTTP/2.0\r\nHost: a\r\n\r\n", []int{505}, true},
		{"a header over 8 KiB", long, []int{431}, true},
		{"headers over 8 KiB in all", many, []int{431}, true},
		{"a head that never ends", endless, []int{431}, true},
		{"good then bad, pipelined", get("/plaintext") + "GET\r\n\r\n" + get("/json"), []int{200, 400}, true},
		{"unknown path", get("/nope"), []int{404}, false},
		{"POST", "POST /plaintext HTTP/1.1\r\nHost: a\r\n\r\n", []int{405}, false},
		{"DELETE", "DELETE /json HTTP/1.1\r\nHost: a\r\n\r\n", []int{405}, false},
		{"Content-Length body discarded", "POST /json HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world" + get("/plaintext"), []int{405, 200}, false},
		{"chunked body discarded", "POST /json HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n" + get("/plaintext"), []int{405, 200}, false},
		{"a 1 MiB body discarded", bigBody, []int{405, 200}, false},
		{"malformed chunked body", "POST /json HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + get("/plaintext"), []int{405, 400}, true},
		{"HTTP/1.0", "GET /plaintext HTTP/1.0\r\n\r\n", []int{200}, true},
		{"HTTP/1.0 keep-alive", "GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", []int{200}, false},
		{"Connection: close, and a request after it", "GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + get("/json"), []int{200}, true},
	}
	srv := startServer(t, Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dial(t, srv)
			werr := make(chan error, 1)
			go func() { // a big body may not fit in the buffers: write while reading
				_, err := io.WriteString(c, tc.send)
				werr <- err
			}()
			for i, want := range tc.want {
				r, err := readResponse(br, "GET")
				if err != nil {
					t.Fatalf("answer %d: %v", i, err)
				}
				if r.status != want {
					t.Fatalf("answer %d: status %d, want %d", i, r.status, want)
				}
				if r.header.Get("Server") == "" || r.header.Get("Content-Length") == "" || checkDate(r.header.Get("Date")) != nil {
					t.Fatalf("answer %d: headers %v", i, r.header)
				}
				if want == 405 && r.header.Get("Allow") != "GET, HEAD" {
					t.Fatalf("405 without Allow: GET, HEAD: %v", r.header)
				}
				last := i == len(tc.want)-1
				if last && r.close != tc.closes {
					t.Fatalf("last answer says close=%v, want %v", r.close, tc.closes)
				}
			}
			if err := <-werr; err != nil {
				t.Fatalf("write: %v", err)
			}
			if tc.closes {
				if err := expectEOF(br); err != nil {
					t.Fatal(err)
				}
				return
			}
			io.WriteString(c, get("/json"))
			r, err := readResponse(br, "GET")
			if err != nil {
				t.Fatalf("the connection does not serve on: %v", err)
			}
			if err := checkOK(r, "/json", false); err != nil {
				t.Fatal(err)
			}
		})
	}
	// HEAD: the headers of GET, no body, and the connection goes on.
	c, br := dial(t, srv)
	io.WriteString(c, "HEAD /plaintext HTTP/1.1\r\nHost: a\r\n\r\n"+get("/json"))
	if r, err := readResponse(br, "HEAD"); err != nil || checkOK(r, "/plaintext", true) != nil {
		t.Fatalf("HEAD: %v %v", err, checkOK(r, "/plaintext", true))
	}
	if r, err := readResponse(br, "GET"); err != nil || checkOK(r, "/json", false) != nil {
		t.Fatalf("after HEAD: %v", err)
	}
	c.Close()
	if err := srv.waitClosed(); err != nil {
		t.Fatal(err)
	}
}

// TestManyRequests: 10,000 keep-alive requests on 64 connections, every
// answer checked.
func TestManyRequests(t *testing.T) {
	srv := startServer(t, Config{})
	const conns, total = 64, 10000
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		n := total / conns
		if i < total%conns {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- keepAliveClient(srv, i, n)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if a, _, n, _, _ := srv.totals(); a != conns || n != total {
		t.Fatalf("server accepted %d connections and answered %d requests, want %d and %d", a, n, conns, total)
	}
}

func keepAliveClient(srv *Server, id, n int) error {
	c, err := net.DialTimeout("tcp4", srv.addr(), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	br := bufio.NewReader(c)
	for i := range n {
		path := "/plaintext"
		if (id+i)%2 == 1 {
			path = "/json"
		}
		if _, err := io.WriteString(c, get(path)); err != nil {
			return fmt.Errorf("connection %d request %d: %w", id, i, err)
		}
		r, err := readResponse(br, "GET")
		if err == nil {
			err = checkOK(r, path, false)
		}
		if err == nil && r.close {
			err = errors.New("Connection: close on a keep-alive request")
		}
		if err != nil {
			return fmt.Errorf("connection %d request %d: %w", id, i, err)
		}
	}
	return nil
}

// TestBackpressure: a client pipelines 3,000 requests and does not read
// until the server has paused reading (more than MaxQueued bytes of
// answers queued behind a small SO_SNDBUF); then it reads every answer, in
// order, which needs the server to finish its partial writes on Writable
// events and resume reading.
func TestBackpressure(t *testing.T) {
	srv := startServer(t, Config{SndBuf: 4096, MaxQueued: 16 << 10})
	c, br := dial(t, srv)
	const n = 3000
	go func() {
		var b strings.Builder
		for i := range n {
			if i%2 == 0 {
				b.WriteString(get("/plaintext"))
			} else {
				b.WriteString(get("/json"))
			}
		}
		io.WriteString(c, b.String()) // blocks while the server pauses; the reads below let it go on
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, _, _, p := srv.totals(); p > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never paused reading with its output backed up")
		}
		time.Sleep(time.Millisecond)
	}
	for i := range n {
		path := "/plaintext"
		if i%2 == 1 {
			path = "/json"
		}
		r, err := readResponse(br, "GET")
		if err == nil {
			err = checkOK(r, path, false)
		}
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
	}
	_, _, reqs, partial, pauses := srv.totals()
	if reqs != n || partial == 0 {
		t.Fatalf("%d requests answered, %d partial writes, want %d and some", reqs, partial, n)
	}
	t.Logf("%d partial writes, %d pauses", partial, pauses)
}

// TestCloseAfterFlush: 2,000 pipelined answers, then a bad request, behind
// a small SO_SNDBUF: every answer and the 400 arrive before the EOF, since
// the server closes only once its output is written, and half-closes then
// (no reset, though the client's requests after the bad one are unread).
func TestCloseAfterFlush(t *testing.T) {
	srv := startServer(t, Config{SndBuf: 4096})
	c, br := dial(t, srv)
	const n = 2000
	go io.WriteString(c, strings.Repeat(get("/plaintext"), n)+"BAD\r\n\r\n"+strings.Repeat(get("/json"), 100))
	time.Sleep(50 * time.Millisecond) // let the output back up (not asserted)
	for i := range n {
		r, err := readResponse(br, "GET")
		if err == nil {
			err = checkOK(r, "/plaintext", false)
		}
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
	}
	r, err := readResponse(br, "GET")
	if err != nil || r.status != 400 || !r.close {
		t.Fatalf("the bad request: %d close=%v %v, want 400 and close", r.status, r.close, err)
	}
	if err := expectEOF(br); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := srv.waitClosed(); err != nil {
		t.Fatal(err)
	}
}

// TestLingerTimeout: a client that never closes after Connection: close
// is closed by the server once Linger has passed.
func TestLingerTimeout(t *testing.T) {
	srv := startServer(t, Config{Linger: 100 * time.Millisecond})
	c, br := dial(t, srv)
	io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if r, err := readResponse(br, "GET"); err != nil || r.status != 200 || !r.close {
		t.Fatalf("%d close=%v %v", r.status, r.close, err)
	}
	if err := expectEOF(br); err != nil { // the half-close
		t.Fatal(err)
	}
	if err := srv.waitClosed(); err != nil { // the client still has its side open
		t.Fatal(err)
	}
	// Writing now reaches a closed socket: the kernel answers with a reset.
	c.Write([]byte("more"))
}

// TestClose: Close stops accepting (the port refuses) and closes the
// open connections (their clients read EOF), and every descriptor the
// server opened is closed.
func TestClose(t *testing.T) {
	if l, err := net.Listen("tcp4", "127.0.0.1:0"); err == nil {
		l.Close() // the net package's poller opens its descriptors on first use
	}
	fds := countFds(t)
	srv, err := NewServer(Config{Addr: [4]byte{127, 0, 0, 1}, Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { srv.Serve(); close(served) }()
	var brs []*bufio.Reader
	for range 4 {
		c, err := net.DialTimeout("tcp4", srv.addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		io.WriteString(c, get("/plaintext"))
		if r, err := readResponse(br, "GET"); err != nil || checkOK(r, "/plaintext", false) != nil {
			t.Fatal(err)
		}
		brs = append(brs, br)
	}
	srv.Close()
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of Close")
	}
	for i, br := range brs {
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("connection %d after Close: %v, want EOF", i, err)
		}
	}
	if c, err := net.DialTimeout("tcp4", srv.addr(), 5*time.Second); err == nil {
		c.Close()
		t.Fatal("the port still accepts connections after Close")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial after Close: %v, want ECONNREFUSED", err)
	}
	if a, c, _, _, _ := srv.totals(); a != 4 || c != 4 {
		t.Fatalf("accepted %d, closed %d", a, c)
	}
	if got := countFds(t); got != fds+4 { // the clients' own 4 are still open
		t.Fatalf("descriptors: %d before the server, %d after Close (4 of them the clients')", fds, got)
	}
}

// TestCloseUnserved: Close on a server that never served releases its
// listeners and selectors, and Serve after it returns at once.
func TestCloseUnserved(t *testing.T) {
	fds := countFds(t)
	srv, err := NewServer(Config{Addr: [4]byte{127, 0, 0, 1}, Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	if countFds(t) == fds {
		t.Fatal("NewServer opened no descriptors")
	}
	srv.Close()
	if got := countFds(t); got != fds {
		t.Fatalf("descriptors: %d before NewServer, %d after Close", fds, got)
	}
	done := make(chan struct{})
	go func() { srv.Serve(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve after Close did not return")
	}
}

// TestDateAdvances: the Date header follows the clock: a request made
// more than a second after another on an idle connection carries a later
// Date (the loop reads the clock when its Select returns, so a loop that
// slept through the second change still answers with the new one).
func TestDateAdvances(t *testing.T) {
	srv := startServer(t, Config{Loops: 1})
	c, br := dial(t, srv)
	date := func() time.Time {
		t.Helper()
		io.WriteString(c, get("/plaintext"))
		r, err := readResponse(br, "GET")
		if err == nil {
			err = checkOK(r, "/plaintext", false)
		}
		if err != nil {
			t.Fatal(err)
		}
		d, _ := time.Parse(http.TimeFormat, r.header.Get("Date"))
		return d
	}
	d1 := date()
	time.Sleep(1100 * time.Millisecond)
	if d2 := date(); !d2.After(d1) {
		t.Fatalf("Date %v, then %v more than a second later", d1, d2)
	}
}
