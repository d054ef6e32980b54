//go:build linux && (amd64 || arm64)

package main

import (
	"bytes"

	"github.com/rawpoll/rawpoll/examples/httpd/http1"
)

// proto is one connection's HTTP/1.1 state without its socket: the bytes
// received and not yet consumed, the responses not yet written, and where
// the connection is in a request body. process is the whole per-request
// path of the server; the event loop feeds it what a read brought and
// writes what it appended, and the benchmarks drive it without sockets.
type proto struct {
	in  []byte // received, not consumed: a partial request head, from in[0]
	out []byte // responses; the loop writes out[wpos:] (see conn)

	body    int64 // Content-Length bytes of the current request's body still to discard
	chunked bool  // discarding a chunked body with ck
	ck      http1.ChunkedSkipper

	// scanned is len(in) when Parse last said ErrIncomplete (0 otherwise):
	// a head ends with a line end, so until a '\n' arrives after those
	// bytes it cannot be complete, and Parse waits for one (an error in
	// the new bytes is found with the end of their line, or at
	// MaxHeaderBytes). It keeps a head that arrives a byte at a time from
	// being parsed once per byte.
	scanned int

	// done: a response after which the connection closes is in out, so
	// nothing more is parsed (RFC 9112 9.6: a server MUST NOT process
	// requests after the one that carried close; after a 400, 431 or 505
	// the framing of what follows cannot be trusted).
	done bool
}

// process answers every complete request in p.in, in order, appending the
// responses to p.out; request bodies are discarded as they arrive, across
// calls. What is left, a partial request head, moves to the start of p.in.
// It returns the number of requests answered.
func (p *proto) process(date *http1.Date) int {
	buf := p.in
	n := 0
loop:
	for len(buf) > 0 && !p.done {
		switch {
		case p.body > 0:
			k := min(int64(len(buf)), p.body)
			p.body -= k
			buf = buf[k:]
		case p.chunked:
			k, end, err := p.ck.Skip(buf)
			if err != nil {
				p.out = http1.RespondError(p.out, err, date)
				p.done = true
				break loop
			}
			buf = buf[k:]
			p.chunked = !end
		default:
			if p.scanned > 0 && len(buf) < http1.MaxHeaderBytes && bytes.IndexByte(buf[p.scanned:], '\n') < 0 {
				p.scanned = len(buf)
				break loop
			}
			req, k, err := http1.Parse(buf)
			if err == http1.ErrIncomplete {
				p.scanned = len(buf)
				break loop
			}
			p.scanned = 0
			n++
			if err != nil {
				p.out = http1.RespondError(p.out, err, date)
				p.done = true
				break loop
			}
			var closeAfter bool
			p.out, closeAfter = http1.Respond(p.out, &req, date)
			buf = buf[k:]
			p.body, p.chunked = req.ContentLength, req.Chunked
			if req.Chunked {
				p.ck = http1.ChunkedSkipper{}
			}
			p.done = closeAfter
		}
	}
	if p.done {
		buf = nil // what follows is not read as requests
	}
	p.in = p.in[:copy(p.in, buf)]
	return n
}
