package http1

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unsafe"
)

const getPlain = "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\nConnection: keep-alive\r\n\r\n"

func TestParseGood(t *testing.T) {
	cases := []struct {
		in     string
		method Method
		path   string
		minor  int
		keep   bool
		cl     int64
		chunk  bool
	}{
		{getPlain, MethodGet, "/plaintext", 1, true, 0, false},
		{"GET /json HTTP/1.1\r\nHost: x\r\n\r\n", MethodGet, "/json", 1, true, 0, false},
		{"HEAD /json HTTP/1.1\nHost: x\n\n", MethodHead, "/json", 1, true, 0, false}, // bare LF (RFC 9112 2.2)
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", MethodGet, "/", 1, false, 0, false},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", MethodGet, "/", 1, false, 0, false},
		{"GET / HTTP/1.0\r\n\r\n", MethodGet, "/", 0, false, 0, false},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", MethodGet, "/", 0, true, 0, false},
		{"GET / HTTP/1.9\r\nHost: x\r\n\r\n", MethodGet, "/", 1, true, 0, false},
		{"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", MethodOther, "/x", 1, true, 5, false},
		{"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", MethodOther, "/x", 1, true, 5, false},
		{"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", MethodOther, "/x", 1, true, 0, true},
		{"\r\nGET /p?q=1 HTTP/1.1\r\nHost:x\r\nX-Empty:\r\nX:  spaced \t\r\n\r\n", MethodGet, "/p?q=1", 1, true, 0, false},
		{"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", MethodOther, "*", 1, true, 0, false},
		// HTTP/1.0 with Transfer-Encoding: faulty framing, closed after
		// the answer even though it asked for keep-alive (RFC 9112 6.1).
		{"POST /x HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", MethodOther, "/x", 0, false, 0, true},
	}
	for _, c := range cases {
		req, n, err := Parse([]byte(c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if n != len(c.in) || req.Method != c.method || string(req.Path) != c.path || req.Minor != c.minor ||
			req.KeepAlive != c.keep || req.ContentLength != c.cl || req.Chunked != c.chunk {
			t.Errorf("%q: n=%d %+v", c.in, n, req)
		}
	}
}

func TestParseBad(t *testing.T) {
	long := "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n"
	cases := []struct {
		in   string
		want error
	}{
		{"GET\r\n\r\n", ErrBadRequest},
		{" GET / HTTP/1.1\r\n\r\n", ErrBadRequest},
		{"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", ErrBadRequest},
		{"GET / HTTX/1.1\r\nHost: x\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/11\r\nHost: x\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/2.0\r\nHost: x\r\n\r\n", ErrVersion},
		{"GET / HTTP/1.1\rHost: x\r\n\r\n", ErrBadRequest}, // bare CR
		{"GET / HTTP/1.1\r\n\r\n", ErrBadRequest},          // 1.1 without Host
		{"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1\r\nHost : x\r\n\r\n", ErrBadRequest},           // space before colon
		{"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", ErrBadRequest}, // obs-fold
		{"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\x01\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", ErrBadRequest},
		// chunked twice, in one field or two (RFC 9112 6.1): the body's end
		// cannot be found by one skipper.
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ErrBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n", ErrBadRequest},
		{"GET /a\x7f HTTP/1.1\r\nHost: x\r\n\r\n", ErrBadRequest},
		{long, ErrHeaderTooLarge},
		{long[:MaxHeaderBytes+10], ErrHeaderTooLarge}, // no end in sight
	}
	for _, c := range cases {
		if _, _, err := Parse([]byte(c.in)); err != c.want {
			t.Errorf("%.60q: %v, want %v", c.in, err, c.want)
		}
	}
}

// TestParseSplitAtEveryByte: every prefix of a request is ErrIncomplete,
// and the whole is parsed: a request split across reads at any byte.
func TestParseSplitAtEveryByte(t *testing.T) {
	for _, in := range []string{getPlain, "GET / HTTP/1.0\nConnection: keep-alive\n\n", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"} {
		for k := range len(in) {
			if _, _, err := Parse([]byte(in[:k])); err != ErrIncomplete {
				t.Fatalf("%q: prefix of %d bytes: %v, want ErrIncomplete", in, k, err)
			}
		}
		if _, n, err := Parse([]byte(in)); err != nil || n != len(in) {
			t.Fatalf("%q: %d, %v", in, n, err)
		}
	}
}

func TestPipelined(t *testing.T) {
	buf := []byte(strings.Repeat(getPlain, 16))
	for i := range 16 {
		req, n, err := Parse(buf)
		if err != nil || string(req.Path) != "/plaintext" {
			t.Fatalf("request %d: %v", i, err)
		}
		buf = buf[n:]
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left", len(buf))
	}
}

func TestChunkedSkipper(t *testing.T) {
	good := []string{
		"0\r\n\r\n",
		"5\r\nhello\r\n0\r\n\r\n",
		"5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n",
		"3\nabc\n0\n\n",
		"1f\r\n" + strings.Repeat("z", 31) + "\r\n0\r\n\r\n",
	}
	for _, body := range good {
		next := "GET / HTTP/1.1\r\n"
		in := body + next
		// Whole, and split at every byte.
		for split := 0; split <= len(in); split++ {
			var c ChunkedSkipper
			n1, done, err := c.Skip([]byte(in[:split]))
			if err != nil {
				t.Fatalf("%q split %d: %v", body, split, err)
			}
			used := n1
			if !done {
				n2, done2, err := c.Skip([]byte(in[split:]))
				if err != nil || !done2 {
					t.Fatalf("%q split %d: second part: %v, done %v", body, split, err, done2)
				}
				used += n2
			}
			if used != len(body) {
				t.Fatalf("%q split %d: used %d bytes, the body has %d", body, split, used, len(body))
			}
		}
	}
	for _, bad := range []string{"x\r\n", "5\r\nhelloX\r\n", "\r\n", strings.Repeat("f", 16) + "\r\n", "5\r\nhello\rX"} {
		var c ChunkedSkipper
		if _, _, err := c.Skip([]byte(bad)); err != ErrBadRequest {
			t.Errorf("%q: %v, want ErrBadRequest", bad, err)
		}
	}
}

func TestRespond(t *testing.T) {
	var d Date
	d.Refresh(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	if got := string(d.Bytes()); got != "Tue, 01 Dec 2026 10:00:00 GMT" {
		t.Fatalf("Date %q", got)
	}
	if d.Refresh(time.Date(2026, 12, 1, 10, 0, 0, 500, time.UTC)) {
		t.Fatal("Date reformatted within the same second")
	}
	check := func(raw string, status int, body string, wantClose bool, hdr map[string]string) {
		t.Helper()
		req, _, err := Parse([]byte(raw))
		var out []byte
		var closeAfter bool
		if err != nil {
			out, closeAfter = RespondError(nil, err, &d), true
		} else {
			out, closeAfter = Respond(nil, &req, &d)
		}
		if closeAfter != wantClose {
			t.Fatalf("%q: close %v, want %v", raw, closeAfter, wantClose)
		}
		resp, err := http.ReadResponse(bufioReader(out), nil)
		if err != nil {
			t.Fatalf("%q: the response does not parse: %v\n%s", raw, err, out)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if resp.StatusCode != status || b.String() != body {
			t.Fatalf("%q: %d %q, want %d %q", raw, resp.StatusCode, b.String(), status, body)
		}
		for _, h := range []string{"Server", "Date", "Content-Length", "Content-Type"} {
			if resp.Header.Get(h) == "" {
				t.Fatalf("%q: no %s header", raw, h)
			}
		}
		for k, v := range hdr {
			if k == "Connection" { // net/http moves it into resp.Close: read the bytes
				if !bytes.Contains(out, []byte("\r\nConnection: "+v+"\r\n")) {
					t.Fatalf("%q: no Connection: %s in %q", raw, v, out)
				}
				continue
			}
			if got := resp.Header.Get(k); got != v {
				t.Fatalf("%q: %s %q, want %q", raw, k, got, v)
			}
		}
		if resp.Close != wantClose {
			t.Fatalf("%q: the client reads close=%v", raw, resp.Close)
		}
	}
	check(getPlain, 200, "Hello, World!", false, map[string]string{"Content-Type": "text/plain", "Content-Length": "13"})
	check("GET /json HTTP/1.1\r\nHost: x\r\n\r\n", 200, `{"message":"Hello, World!"}`, false, map[string]string{"Content-Type": "application/json"})
	check("GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, `{"message":"Hello, World!"}`, true, map[string]string{"Connection": "close"})
	check("GET /plaintext HTTP/1.0\r\n\r\n", 200, "Hello, World!", true, nil)
	check("GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, "Hello, World!", false, map[string]string{"Connection": "keep-alive"})
	check("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "", false, nil)
	check("DELETE /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 405, "", false, map[string]string{"Allow": "GET, HEAD"})
	check("GET / HTTP/1.1\r\n\r\n", 400, "", true, nil)
	check("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "", true, nil)
	check("GET / HTTP/1.1\r\nHost: x\r\nX: "+strings.Repeat("a", MaxHeaderBytes)+"\r\n\r\n", 431, "", true, nil)
	// HEAD: the headers of GET, no body.
	req, _, _ := Parse([]byte("HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"))
	out, _ := Respond(nil, &req, &d)
	if !bytes.HasSuffix(out, []byte("Content-Length: 13\r\n\r\n")) {
		t.Fatalf("HEAD response %q", out)
	}
	for m, want := range map[string]string{
		"a\"b\\c\n":  `{"message":"a\"b\\c\u000a"}`,
		"":           `{"message":""}`,
		"\x01":       `{"message":"\u0001"}`,
		"\"x\x1fy\\": `{"message":"\"x\u001fy\\"}`,
		JSONMessage:  `{"message":"Hello, World!"}`,
	} {
		got := appendJSONMessage(nil, m)
		var back struct{ Message string }
		if string(got) != want || json.Unmarshal(got, &back) != nil || back.Message != m {
			t.Fatalf("JSON of %q: %s, want %s", m, got, want)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	var d Date
	d.Refresh(time.Now())
	in := []byte(strings.Repeat(getPlain, 16))
	out := make([]byte, 0, 64<<10)
	if n := testing.AllocsPerRun(200, func() {
		buf := in
		out = out[:0]
		for len(buf) > 0 {
			req, n, err := Parse(buf)
			if err != nil {
				t.Fatal(err)
			}
			out, _ = Respond(out, &req, &d)
			buf = buf[n:]
		}
	}); n != 0 {
		t.Fatalf("%v allocations per 16 pipelined requests", n)
	}
}

// FuzzParse: no input panics the parser or makes it read or point beyond
// what it consumed, and a well-formed request built from the fuzzer's
// bytes is always parsed, with its fields.
func FuzzParse(f *testing.F) {
	f.Add([]byte(getPlain), "/plaintext", "x-a", "v", uint8(0))
	f.Add([]byte("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), "/", "k", "", uint8(3))
	f.Add([]byte("\n\nGET\t/ HTTP/1.1\r\n"), "/json?x", "a", "b c", uint8(9))
	f.Fuzz(func(t *testing.T, raw []byte, path, hname, hval string, flags uint8) {
		// The word-at-a-time value scan agrees with the byte loop.
		for start := range min(len(raw), 9) {
			k := start
			for k < len(raw) && fieldVchar[raw[k]] {
				k++
			}
			if got := skipVchar(raw, start); got != k {
				t.Fatalf("skipVchar from %d: %d, want %d", start, got, k)
			}
		}
		// Arbitrary bytes: no panic, a head within the buffer.
		req, n, err := Parse(raw)
		if err == nil {
			if n <= 0 || n > len(raw) || n > MaxHeaderBytes+4 {
				t.Fatalf("consumed %d of %d bytes", n, len(raw))
			}
			if !within(req.Path, raw[:n]) {
				t.Fatalf("Path %q is not inside the head", req.Path)
			}
			var c ChunkedSkipper
			c.Skip(raw[n:]) // no panic
		}
		// A well-formed request: it must parse.
		if !validTarget(path) || !validToken(hname) || !validValue(hval) {
			return
		}
		var b strings.Builder
		m := [...]string{"GET", "HEAD", "POST"}[flags%3]
		fmt.Fprintf(&b, "%s %s HTTP/1.%d\r\nHost: h\r\n%s: %s\r\n", m, path, flags>>7, hname, hval)
		if flags&8 != 0 {
			b.WriteString("Connection: close\r\n")
		}
		b.WriteString("\r\n")
		wf := b.String()
		if equalFold([]byte(hname), "host") || equalFold([]byte(hname), "content-length") ||
			equalFold([]byte(hname), "transfer-encoding") || equalFold([]byte(hname), "connection") || len(wf) > MaxHeaderBytes {
			return // would change the framing or the limits, which the table tests cover
		}
		req, n, err = Parse([]byte(wf))
		if err != nil || n != len(wf) || string(req.Path) != path || req.Minor != int(flags>>7) || req.KeepAlive == (flags&8 != 0) && flags>>7 == 1 {
			t.Fatalf("well-formed %q: %v, n=%d, %+v", wf, err, n, req)
		}
	})
}

func within(sub, buf []byte) bool {
	if len(sub) == 0 {
		return true
	}
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	s0 := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	return s0 >= b0 && s0+uintptr(len(sub)) <= b0+uintptr(len(buf))
}

func validTarget(s string) bool {
	if s == "" {
		return false
	}
	for k := 0; k < len(s); k++ {
		if s[k] <= ' ' || s[k] == 0x7f {
			return false
		}
	}
	return true
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for k := 0; k < len(s); k++ {
		if !isTchar(s[k]) {
			return false
		}
	}
	return true
}

func validValue(s string) bool {
	for k := 0; k < len(s); k++ {
		if c := s[k]; c < ' ' || c == 0x7f {
			return false
		}
	}
	return len(s) == 0 || s[0] != ' ' && s[len(s)-1] != ' '
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// wrkRequest is what make bench-http's wrk sends (bench/http.sh's headers).
const wrkRequest = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:17201\r\n" +
	"Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
	"Connection: keep-alive\r\n\r\n"

// BenchmarkParse parses the benchmark's request head; BenchmarkRespond
// answers it (plaintext and json).
func BenchmarkParse(b *testing.B) {
	buf := []byte(wrkRequest)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, _, err := Parse(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRespond(b *testing.B) {
	var d Date
	d.Refresh(time.Now())
	for _, path := range []string{"/plaintext", "/json"} {
		b.Run("path="+path[1:], func(b *testing.B) {
			req := Request{Method: MethodGet, Path: []byte(path), Minor: 1, KeepAlive: true}
			out := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				out, _ = Respond(out[:0], &req, &d)
			}
		})
	}
}

// TestSkipVchar: the word-at-a-time scan stops where the byte-by-byte
// one does, for every byte value at every position of a value (and with
// a second odd byte after it), whatever the alignment.
func TestSkipVchar(t *testing.T) {
	ref := func(buf []byte, i int) int {
		for i < len(buf) && fieldVchar[buf[i]] {
			i++
		}
		return i
	}
	buf := make([]byte, 40)
	for c := range 256 {
		for pos := range len(buf) {
			for start := range 9 {
				for k := range buf {
					buf[k] = 'a' + byte(k%26)
				}
				buf[pos] = byte(c)
				if pos+3 < len(buf) {
					buf[pos+3] = '\t'
				}
				if got, want := skipVchar(buf, start), ref(buf, start); got != want {
					t.Fatalf("byte %#x at %d, from %d: %d, want %d", c, pos, start, got, want)
				}
				if got, want := skipVchar(buf[:pos], start), ref(buf[:pos], start); got != want {
					t.Fatalf("%d bytes, from %d: %d, want %d", pos, start, got, want)
				}
			}
		}
	}
}
