//go:build linux && (amd64 || arm64)

package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/examples/httpd/http1"
)

// wrkRequest is the request wrk sends in make bench-http (bench/http.sh's
// headers), 16 of them pipelined per write.
const wrkRequest = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:17201\r\n" +
	"Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
	"Connection: keep-alive\r\n\r\n"

func fixedDate() *http1.Date {
	var d http1.Date
	d.Refresh(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	return &d
}

func newProto() *proto {
	return &proto{in: make([]byte, 0, inMax), out: make([]byte, 0, outStart)}
}

// feed appends b to p.in (as a read would) and processes it.
func (p *proto) feed(b []byte, d *http1.Date) int {
	p.in = append(p.in, b...)
	return p.process(d)
}

// A sequence with every framing: a plain GET, a POST with a
// Content-Length body, a HEAD, a chunked POST with a trailer, a json GET,
// and a 404, answered in order.
const sequence = "GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n" +
	"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world" +
	"HEAD /json HTTP/1.1\r\nHost: a\r\n\r\n" +
	"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n" +
	"GET /json HTTP/1.1\r\nHost: a\r\n\r\n" +
	"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"

var sequenceAnswers = []struct {
	method string
	status int
}{{"GET", 200}, {"POST", 405}, {"HEAD", 200}, {"POST", 405}, {"GET", 200}, {"GET", 404}}

// TestProtoSequence: the whole sequence at once gives its six answers, in
// order, and leaves nothing behind.
func TestProtoSequence(t *testing.T) {
	d := fixedDate()
	p := newProto()
	if n := p.feed([]byte(sequence), d); n != len(sequenceAnswers) {
		t.Fatalf("%d requests answered, want %d", n, len(sequenceAnswers))
	}
	if len(p.in) != 0 || p.body != 0 || p.chunked || p.done {
		t.Fatalf("state left: %d bytes in, body %d, chunked %v, done %v", len(p.in), p.body, p.chunked, p.done)
	}
	br := bufio.NewReader(bytes.NewReader(p.out))
	for i, a := range sequenceAnswers {
		r, err := readResponse(br, a.method)
		if err != nil || r.status != a.status {
			t.Fatalf("answer %d: %d, %v; want %d", i, r.status, err, a.status)
		}
	}
	if br.Buffered() != 0 {
		t.Fatalf("%d bytes after the last answer", br.Buffered())
	}
}

// TestProtoSplitAtEveryByte: the sequence in two parts cut at every
// offset, and in one-byte pieces, gives exactly the bytes it gives whole.
func TestProtoSplitAtEveryByte(t *testing.T) {
	d := fixedDate()
	whole := newProto()
	whole.feed([]byte(sequence), d)
	for k := 1; k < len(sequence); k++ {
		p := newProto()
		n := p.feed([]byte(sequence[:k]), d)
		n += p.feed([]byte(sequence[k:]), d)
		if n != len(sequenceAnswers) || !bytes.Equal(p.out, whole.out) {
			t.Fatalf("cut at %d: %d answers, output differs:\n%q\nwant\n%q", k, n, p.out, whole.out)
		}
	}
	p := newProto()
	n := 0
	for k := range len(sequence) {
		n += p.feed([]byte{sequence[k]}, d)
	}
	if n != len(sequenceAnswers) || !bytes.Equal(p.out, whole.out) {
		t.Fatalf("byte by byte: %d answers, output differs", n)
	}
}

// TestProtoDone: after a response that closes (Connection: close, a bad
// request), nothing more is answered and nothing more is kept.
func TestProtoDone(t *testing.T) {
	d := fixedDate()
	for _, c := range []struct {
		in     string
		status int
	}{
		{"GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + get("/json"), 200},
		{"GET /plaintext HTTP/1.0\r\n\r\n" + get("/json"), 200},
		{"BAD\x01 / HTTP/1.1\r\n\r\n" + get("/json"), 400},
		{"GET / HTTP/3.0\r\nHost: a\r\n\r\n" + get("/json"), 505},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + get("/json"), 405},
	} {
		p := newProto()
		p.feed([]byte(c.in), d)
		if !p.done || len(p.in) != 0 {
			t.Fatalf("%q: done %v, %d bytes kept", c.in, p.done, len(p.in))
		}
		if p.feed([]byte(get("/json")), d) != 0 || len(p.in) != 0 {
			t.Fatalf("%q: a request after the last one was answered or kept", c.in)
		}
		br := bufio.NewReader(bytes.NewReader(p.out))
		r, err := readResponse(br, "GET")
		if err != nil || r.status != c.status {
			t.Fatalf("%q: %d %v, want %d", c.in, r.status, err, c.status)
		}
		if c.status == 405 { // the chunked body after it is malformed: 400
			if r, err = readResponse(br, "GET"); err != nil || r.status != 400 {
				t.Fatalf("%q: second answer %d %v, want 400", c.in, r.status, err)
			}
		}
		if !r.close {
			t.Fatalf("%q: the last answer does not say Connection: close", c.in)
		}
		if br.Buffered() != 0 {
			t.Fatalf("%q: %d bytes after the answers", c.in, br.Buffered())
		}
	}
}

// TestProtoHeaderTooLarge: a head that never ends is a 431 once it has
// passed MaxHeaderBytes, however it arrives.
func TestProtoHeaderTooLarge(t *testing.T) {
	d := fixedDate()
	head := "GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Long: " + strings.Repeat("x", 2*http1.MaxHeaderBytes)
	for _, piece := range []int{1, 7, 100, 4096, len(head)} {
		p := newProto()
		for k := 0; k < len(head) && !p.done; k += piece {
			p.feed([]byte(head[k:min(k+piece, len(head))]), d)
			if len(p.in) > http1.MaxHeaderBytes+piece {
				t.Fatalf("pieces of %d: %d bytes kept", piece, len(p.in))
			}
		}
		if !p.done || !bytes.HasPrefix(p.out, []byte("HTTP/1.1 431 ")) {
			t.Fatalf("pieces of %d: done %v, %.40q", piece, p.done, p.out)
		}
	}
}

// TestProtoZeroAllocs: 16 pipelined requests, parsed and answered,
// allocate nothing once the buffers exist.
func TestProtoZeroAllocs(t *testing.T) {
	for _, path := range []string{"/plaintext", "/json"} {
		batch := []byte(strings.Repeat(strings.Replace(wrkRequest, "/plaintext", path, 1), 16))
		d := fixedDate()
		p := newProto()
		allocs := testing.AllocsPerRun(1000, func() {
			p.out = p.out[:0]
			if n := p.feed(batch, d); n != 16 {
				t.Fatalf("%d answers", n)
			}
		})
		if allocs != 0 {
			t.Fatalf("%s: %v allocations per batch of 16 requests", path, allocs)
		}
	}
}

// BenchmarkProto16 is the server's per-request work without sockets: a
// batch of 16 pipelined wrk requests parsed and answered into the output
// buffer, as one read brings them (ns/op is per batch; ns/req reported).
func BenchmarkProto16(b *testing.B) {
	for _, path := range []string{"/plaintext", "/json"} {
		b.Run("path="+path[1:], func(b *testing.B) {
			batch := []byte(strings.Repeat(strings.Replace(wrkRequest, "/plaintext", path, 1), 16))
			d := fixedDate()
			p := newProto()
			b.ReportAllocs()
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				p.out = p.out[:0]
				p.feed(batch, d)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/req")
		})
	}
}
