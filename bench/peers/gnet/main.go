// Command gnet is the github.com/panjf2000/gnet/v2 peer of make
// bench-http: TechEmpower's plaintext (GET /plaintext) and json (GET
// /json) tests the way gnet's users write them. gnet hands the handler
// bytes, not requests, so the HTTP/1.1 framing is here: every complete
// request in the connection's buffer is answered, in order, all answers of
// one OnTraffic go out in one Write, and a partial request stays in gnet's
// inbound buffer (Peek, then Discard only what was answered) until the
// rest arrives.
//
// One event loop per -loops, each with its own SO_REUSEPORT listener
// (gnet.WithReusePort), so the kernel spreads connections over the loops
// as examples/httpd's design does; GOMAXPROCS is set to the same number.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

// maxHeader bounds what is buffered while waiting for a request's end.
const maxHeader = 8 << 10

var (
	helloWorld = []byte("Hello, World!")
	crlf       = []byte("\r\n")
	crlfcrlf   = []byte("\r\n\r\n")
)

// date holds "Date: <IMF-fixdate>\r\n", formatted once a second by tickDate.
var date atomic.Pointer[[]byte]

func formatDate() {
	b := make([]byte, 0, 64)
	b = append(b, "Date: "...)
	b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\n"...)
	date.Store(&b)
}

func tickDate() {
	for range time.Tick(time.Second) {
		formatDate()
	}
}

type message struct {
	Message string `json:"message"`
}

// request is what the server needs from a request head.
type request struct {
	method, path []byte
	http10       bool
	keepAlive    bool
}

// Outcomes of parse besides a request.
const (
	incomplete = iota
	complete
	bad      // 400 and close
	tooLarge // 431 and close
	chunked  // 501 and close: a chunked body is not worth framing here
)

// parse reads the request at the start of b. On complete, n is its length,
// head and body; otherwise the caller waits for more (incomplete) or
// answers with an error and closes.
func parse(b []byte) (r request, n int, outcome int) {
	end := bytes.Index(b, crlfcrlf)
	if end < 0 {
		if len(b) > maxHeader {
			return r, 0, tooLarge
		}
		return r, 0, incomplete
	}
	if end > maxHeader {
		return r, 0, tooLarge
	}
	head := b[:end+2] // every line ends in CRLF
	i := bytes.Index(head, crlf)
	line := head[:i]
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return r, 0, bad
	}
	sp2 := bytes.IndexByte(line[sp1+1:], ' ')
	if sp2 <= 0 {
		return r, 0, bad
	}
	r.method = line[:sp1]
	target := line[sp1+1 : sp1+1+sp2]
	switch string(line[sp1+2+sp2:]) {
	case "HTTP/1.1":
		r.keepAlive = true
	case "HTTP/1.0":
		r.http10 = true
	default:
		return r, 0, bad
	}
	if target[0] != '/' {
		return r, 0, bad
	}
	if q := bytes.IndexByte(target, '?'); q >= 0 {
		target = target[:q]
	}
	r.path = target
	bodyLen := 0
	for rest := head[i+2:]; len(rest) > 0; {
		j := bytes.Index(rest, crlf)
		h := rest[:j]
		rest = rest[j+2:]
		colon := bytes.IndexByte(h, ':')
		if colon <= 0 || bytes.IndexByte(h[:colon], ' ') >= 0 {
			return r, 0, bad
		}
		name, value := h[:colon], bytes.TrimSpace(h[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			v, err := strconv.Atoi(string(value))
			if err != nil || v < 0 {
				return r, 0, bad
			}
			bodyLen = v
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return r, 0, chunked
		case bytes.EqualFold(name, []byte("Connection")):
			if hasToken(value, "close") {
				r.keepAlive = false
			} else if hasToken(value, "keep-alive") {
				r.keepAlive = true
			}
		}
	}
	n = end + 4 + bodyLen
	if len(b) < n {
		return r, 0, incomplete
	}
	return r, n, complete
}

// hasToken reports whether the comma-separated list v holds tok, in any case.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		var t []byte
		if c := bytes.IndexByte(v, ','); c >= 0 {
			t, v = v[:c], v[c+1:]
		} else {
			t, v = v, nil
		}
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(tok)) {
			return true
		}
	}
	return false
}

// appendResponse appends the whole response with its headers.
func appendResponse(out []byte, status int, contentType string, body []byte, r request, head bool) []byte {
	out = append(out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(status), 10)
	out = append(out, ' ')
	out = append(out, http.StatusText(status)...)
	out = append(out, "\r\nServer: gnet\r\n"...)
	out = append(out, *date.Load()...)
	out = append(out, "Content-Type: "...)
	out = append(out, contentType...)
	out = append(out, "\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\n"...)
	switch {
	case !r.keepAlive:
		out = append(out, "Connection: close\r\n"...)
	case r.http10:
		out = append(out, "Connection: keep-alive\r\n"...)
	}
	out = append(out, "\r\n"...)
	if !head {
		out = append(out, body...)
	}
	return out
}

// serve appends the answer to one complete request.
func serve(out []byte, r request) []byte {
	head := string(r.method) == "HEAD"
	if !head && string(r.method) != "GET" {
		return appendResponse(out, 405, "text/plain", []byte("Method Not Allowed"), r, false)
	}
	switch string(r.path) {
	case "/plaintext":
		return appendResponse(out, 200, "text/plain", helloWorld, r, head)
	case "/json":
		// Serialized per request, as TechEmpower's rules require.
		b, err := json.Marshal(&message{Message: "Hello, World!"})
		if err != nil {
			return appendResponse(out, 500, "text/plain", []byte(err.Error()), r, head)
		}
		return appendResponse(out, 200, "application/json", b, r, head)
	}
	return appendResponse(out, 404, "text/plain", []byte("Not Found"), r, head)
}

type server struct {
	gnet.BuiltinEventEngine
}

// conn is a connection's output buffer, reused across OnTraffic calls.
type conn struct {
	out []byte
}

func (*server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(&conn{out: make([]byte, 0, 4096)})
	return nil, gnet.None
}

func (*server) OnTraffic(c gnet.Conn) gnet.Action {
	cs := c.Context().(*conn)
	buf, _ := c.Peek(-1) // everything buffered, partial request included
	used := 0
	action := gnet.None
	for used < len(buf) && action == gnet.None {
		r, n, outcome := parse(buf[used:])
		if outcome == incomplete {
			break
		}
		switch outcome {
		case complete:
			cs.out = serve(cs.out, r)
			used += n
			if !r.keepAlive {
				action = gnet.Close
			}
			continue
		case bad:
			cs.out = appendResponse(cs.out, 400, "text/plain", []byte("Bad Request"), request{}, false)
		case tooLarge:
			cs.out = appendResponse(cs.out, 431, "text/plain", []byte("Request Header Fields Too Large"), request{}, false)
		case chunked:
			cs.out = appendResponse(cs.out, 501, "text/plain", []byte("Not Implemented"), request{}, false)
		}
		used = len(buf)
		action = gnet.Close
	}
	if len(cs.out) > 0 {
		// gnet writes at once and copies what the socket did not take into
		// its outbound buffer, flushed on Writable (and before a Close).
		c.Write(cs.out)
		cs.out = cs.out[:0]
	}
	// What is left is a partial request, which gnet keeps for the next
	// OnTraffic. Not Discard(0): gnet reads n <= 0 as "everything".
	if used > 0 {
		c.Discard(used)
	}
	return action
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	loops := flag.Int("loops", 0, "event loops, and GOMAXPROCS (0: GOMAXPROCS)")
	flag.Parse()
	if *loops > 0 {
		runtime.GOMAXPROCS(*loops)
	} else {
		*loops = runtime.GOMAXPROCS(0)
	}
	formatDate()
	go tickDate()
	log.Fatal(gnet.Run(&server{}, "tcp://"+*addr,
		gnet.WithNumEventLoop(*loops),
		gnet.WithReusePort(true),
		gnet.WithLogLevel(logging.ErrorLevel))) // no banner per start
}
