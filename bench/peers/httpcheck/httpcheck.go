// Package httpcheck checks that a server answers TechEmpower's plaintext
// and json tests exactly, pipelined or not, before make bench-http believes
// its numbers: a server that skips a header, drops a pipelined request or
// answers out of order would be measured doing less work than the others.
package httpcheck

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// The bodies the tests require, byte for byte.
const (
	PlaintextBody = "Hello, World!"
	JSONBody      = `{"message":"Hello, World!"}`
)

// Accept is the header TechEmpower's wrk runs send (bench/http.sh sends it
// too), so the check parses the same requests the benchmark does.
const Accept = "text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7"

// ioTimeout bounds every read and write; generous, so a slow shared machine
// does not fail a correct server. A variable so that tests of a server
// that never answers end sooner.
var ioTimeout = 10 * time.Second

// Request is one keep-alive GET of path as the benchmark sends it.
func Request(host, path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: " + Accept + "\r\nConnection: keep-alive\r\n\r\n"
}

// Check runs every check against the server at addr (host:port) and
// returns what failed, nil if nothing did.
func Check(addr string) error {
	var errs []error
	for _, c := range []struct {
		name string
		run  func(string) error
	}{
		{"plaintext", func(a string) error { return sequence(a, []string{"/plaintext"}) }},
		{"json", func(a string) error { return sequence(a, []string{"/json"}) }},
		{"keep-alive", func(a string) error {
			return sequence(a, []string{"/plaintext", "/json", "/plaintext", "/json"})
		}},
		{"16 pipelined plaintext", pipelined16},
		{"16 pipelined, mixed order", pipelinedMixed},
		{"request split at every byte", split},
		{"unknown path", notFound},
		{"Connection: close", connectionClose},
		{"HTTP/1.0", http10},
	} {
		if err := c.run(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

func dial(addr string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, nil, err
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	return c, bufio.NewReader(c), nil
}

// expect reads one response and checks it is path's answer.
func expect(br *bufio.Reader, path string) error {
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("reading the response to %s: %w", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the body of %s: %w", path, err)
	}
	want, wantType := PlaintextBody, "text/plain"
	if path == "/json" {
		want, wantType = JSONBody, "application/json"
	}
	var errs []error
	if resp.StatusCode != 200 {
		errs = append(errs, fmt.Errorf("status %d, want 200", resp.StatusCode))
	}
	if string(body) != want {
		errs = append(errs, fmt.Errorf("body %q, want %q", body, want))
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != wantType {
		errs = append(errs, fmt.Errorf("header Content-Type %q, want %s", resp.Header.Get("Content-Type"), wantType))
	}
	if cl, want := resp.Header.Get("Content-Length"), fmt.Sprint(len(want)); cl != want {
		errs = append(errs, fmt.Errorf("header Content-Length %q, want %s", cl, want))
	}
	if len(resp.TransferEncoding) > 0 {
		errs = append(errs, fmt.Errorf("header Transfer-Encoding %v, want none", resp.TransferEncoding))
	}
	if resp.Header.Get("Server") == "" {
		errs = append(errs, errors.New("no Server header"))
	}
	if d := resp.Header.Get("Date"); d == "" {
		errs = append(errs, errors.New("no Date header"))
	} else if t, err := time.Parse(http.TimeFormat, d); err != nil {
		errs = append(errs, fmt.Errorf("header Date %q is not an IMF-fixdate: %v", d, err))
	} else if dt := time.Since(t); dt > time.Hour || dt < -time.Hour {
		errs = append(errs, fmt.Errorf("header Date %q is %v away from now", d, dt))
	}
	if resp.Close {
		errs = append(errs, errors.New("the server closes a keep-alive connection"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	return nil
}

// sequence sends each request after the previous answer, on one connection.
func sequence(addr string, paths []string) error {
	c, br, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, p := range paths {
		if _, err := io.WriteString(c, Request(addr, p)); err != nil {
			return err
		}
		if err := expect(br, p); err != nil {
			return err
		}
	}
	return nil
}

// pipeline writes all requests in one write, then reads the answers in order.
func pipeline(addr string, paths []string) error {
	c, br, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var b strings.Builder
	for _, p := range paths {
		b.WriteString(Request(addr, p))
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return err
	}
	for i, p := range paths {
		if err := expect(br, p); err != nil {
			return fmt.Errorf("answer %d of %d: %w", i+1, len(paths), err)
		}
	}
	return nil
}

func pipelined16(addr string) error {
	paths := make([]string, 16)
	for i := range paths {
		paths[i] = "/plaintext"
	}
	return pipeline(addr, paths)
}

// pipelinedMixed tells the bodies apart, so answers out of order show.
func pipelinedMixed(addr string) error {
	var paths []string
	for _, j := range []bool{false, true, true, false, true, false, false, false, true, true, true, false, true, false, false, true} {
		if j {
			paths = append(paths, "/json")
		} else {
			paths = append(paths, "/plaintext")
		}
	}
	return pipeline(addr, paths)
}

// split sends two pipelined requests in two writes cut at every offset, on
// one connection, with a pause between the writes so that the server most
// likely reads them apart (a server that reads both at once still passes:
// no timing is asserted).
func split(addr string) error {
	c, br, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	two := []byte(Request(addr, "/plaintext") + Request(addr, "/json"))
	for k := 1; k < len(two); k++ {
		c.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := c.Write(two[:k]); err != nil {
			return fmt.Errorf("cut at %d: %w", k, err)
		}
		time.Sleep(time.Millisecond)
		if _, err := c.Write(two[k:]); err != nil {
			return fmt.Errorf("cut at %d: %w", k, err)
		}
		if err := expect(br, "/plaintext"); err != nil {
			return fmt.Errorf("cut at %d: %w", k, err)
		}
		if err := expect(br, "/json"); err != nil {
			return fmt.Errorf("cut at %d: %w", k, err)
		}
	}
	return nil
}

func notFound(addr string) error {
	c, br, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(c, Request(addr, "/no-such-path")); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		return fmt.Errorf("status %d, want 404", resp.StatusCode)
	}
	return nil
}

// closes sends req and checks the answer is plaintext's and the server
// then closes the connection.
func closes(addr, req string) error {
	c, br, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(body) != PlaintextBody {
		return fmt.Errorf("status %d body %q, want 200 %q", resp.StatusCode, body, PlaintextBody)
	}
	if rest, err := io.ReadAll(br); err != nil {
		return fmt.Errorf("the server did not close the connection: %w", err)
	} else if len(rest) > 0 {
		return fmt.Errorf("%d bytes after the response", len(rest))
	}
	return nil
}

func connectionClose(addr string) error {
	req := strings.Replace(Request(addr, "/plaintext"), "Connection: keep-alive", "Connection: close", 1)
	return closes(addr, req)
}

func http10(addr string) error {
	// HTTP/1.0 without Connection: keep-alive closes after the answer.
	return closes(addr, "GET /plaintext HTTP/1.0\r\nHost: "+addr+"\r\n\r\n")
}
