//go:build linux && (amd64 || arm64)

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

const (
	plainBody = "Hello, World!"
	jsonBody  = `{"message":"Hello, World!"}`
)

// startServer starts a server on a free port and stops it when the test
// ends (bounded: a server that does not stop fails the test).
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	cfg.Addr = [4]byte{127, 0, 0, 1}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { srv.Serve(); close(served) }()
	t.Cleanup(func() {
		srv.Close()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop within 10s of Close")
		}
	})
	return srv
}

func (s *Server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port()) }

// totals sums every loop's counters.
func (s *Server) totals() (accepted, closed, requests, partial, pauses uint64) {
	for _, st := range s.Stats() {
		accepted += st.Accepted.Load()
		closed += st.Closed.Load()
		requests += st.Requests.Load()
		partial += st.PartialWrites.Load()
		pauses += st.Pauses.Load()
	}
	return
}

// waitClosed waits (up to 10s) until the server has closed every
// connection it accepted, and returns an error if it has not.
func (s *Server) waitClosed() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, c, _, _, _ := s.totals()
		if a == c {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server accepted %d connections and closed %d, 10s after the clients were done", a, c)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dial(t testing.TB, srv *Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp4", srv.addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second)) // a stuck exchange fails, it does not hang
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// get is a keep-alive GET as wrk and TechEmpower send it.
func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\nConnection: keep-alive\r\n\r\n"
}

type response struct {
	status int
	header http.Header
	body   string
	close  bool // the response says Connection: close
}

// readResponse reads one response; method is the request's (a HEAD
// response has no body whatever its Content-Length says).
func readResponse(br *bufio.Reader, method string) (response, error) {
	req := &http.Request{Method: method}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return response{}, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return response{}, err
	}
	return response{resp.StatusCode, resp.Header, string(body), resp.Close}, nil
}

// checkOK checks a 200 answer to path: body, Content-Type, Content-Length,
// Server and a Date within a minute of now.
func checkOK(r response, path string, head bool) error {
	body, ctype := plainBody, "text/plain"
	if path == "/json" {
		body, ctype = jsonBody, "application/json"
	}
	var errs []error
	if r.status != 200 {
		errs = append(errs, fmt.Errorf("status %d", r.status))
	}
	if want := body; head {
		if r.body != "" {
			errs = append(errs, fmt.Errorf("HEAD with a body %q", r.body))
		}
	} else if r.body != want {
		errs = append(errs, fmt.Errorf("body %q", r.body))
	}
	if got := r.header.Get("Content-Type"); got != ctype {
		errs = append(errs, fmt.Errorf("Content-Type %q", got))
	}
	if got := r.header.Get("Content-Length"); got != fmt.Sprint(len(body)) {
		errs = append(errs, fmt.Errorf("Content-Length %q", got))
	}
	if got := r.header.Get("Server"); got != "rawpoll" {
		errs = append(errs, fmt.Errorf("Server %q", got))
	}
	if err := checkDate(r.header.Get("Date")); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	return nil
}

func checkDate(d string) error {
	at, err := time.Parse(http.TimeFormat, d)
	if err != nil {
		return fmt.Errorf("Date %q: %v", d, err)
	}
	if dt := time.Since(at); dt > time.Minute || dt < -time.Minute {
		return fmt.Errorf("Date %q is %v from now", d, dt)
	}
	return nil
}

// expectEOF reads what is left on the connection: nothing, then EOF (not
// a reset, not a timeout).
func expectEOF(br *bufio.Reader) error {
	rest, err := io.ReadAll(br)
	if err != nil {
		return fmt.Errorf("want EOF after the last response: %w", err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("want EOF, got %d more bytes: %.80q", len(rest), rest)
	}
	return nil
}

func countFds(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
