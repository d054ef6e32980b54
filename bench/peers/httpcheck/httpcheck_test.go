package httpcheck

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fake serves TechEmpower's tests by hand on a loopback listener, correct
// unless a flaw is named, so the checks are shown to catch each flaw.
func fake(t *testing.T, flaw string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go fakeConn(c, flaw)
		}
	}()
	return ln.Addr().String()
}

func fakeConn(c net.Conn, flaw string) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if flaw == "drops pipelined" && br.Buffered() > 0 {
			br.Discard(br.Buffered())
		}
		status, body, ctype := 200, PlaintextBody, "text/plain"
		switch req.URL.Path {
		case "/plaintext":
		case "/json":
			body, ctype = JSONBody, "application/json"
			if flaw == "json newline" {
				body += "\n"
			}
		default:
			status, body = 404, "Not Found"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
		if flaw != "no Server" {
			b.WriteString("Server: fake\r\n")
		}
		if flaw != "no Date" {
			b.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
		}
		if flaw == "wrong type" {
			ctype = "text/html"
		}
		b.WriteString("Content-Type: " + ctype + "\r\n")
		if flaw == "chunked" {
			fmt.Fprintf(&b, "Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		} else {
			fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
		}
		if _, err := c.Write([]byte(b.String())); err != nil || req.Close {
			return
		}
	}
}

func TestCheckPassesACorrectServer(t *testing.T) {
	if err := Check(fake(t, "")); err != nil {
		t.Fatal(err)
	}
}

func TestCheckCatchesEachFlaw(t *testing.T) {
	// A dropped request shows as a read timeout; a spurious one on a slow
	// machine adds an error but cannot hide the one looked for.
	defer func(d time.Duration) { ioTimeout = d }(ioTimeout)
	ioTimeout = 2 * time.Second
	for flaw, want := range map[string]string{
		"drops pipelined": "16 pipelined plaintext",
		"json newline":    `body "{\"message\":\"Hello, World!\"}\n"`,
		"no Server":       "no Server header",
		"no Date":         "no Date header",
		"wrong type":      `Content-Type "text/html"`,
		"chunked":         "Transfer-Encoding [chunked]",
	} {
		t.Run(flaw, func(t *testing.T) {
			err := Check(fake(t, flaw))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Check = %v, want an error containing %q", err, want)
			}
		})
	}
}
