// Package http1 parses HTTP/1.1 requests in place, for the event loop of
// examples/httpd: no allocation, no copy, every field a view into the
// connection's own buffer, and a request split across reads at any byte
// handled by parsing again once more has arrived (a request head is at
// most MaxHeaderBytes, so re-parsing is bounded).
//
// It follows RFC 9112 where a server must (message framing, which is what
// request smuggling attacks) and is lenient only where the RFC allows a
// recipient to be: a bare LF ends a line (9112 2.2). It reads the headers
// a plaintext server needs: Host, Connection, Content-Length and
// Transfer-Encoding.
package http1

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// MaxHeaderBytes bounds a request head (request line, headers and the
// empty line); a longer one is ErrHeaderTooLarge (431).
const MaxHeaderBytes = 8 << 10

// Errors Parse returns. Each but ErrIncomplete means the connection must
// be answered with Status(err) and closed: the framing of what follows
// cannot be trusted.
var (
	// ErrIncomplete: the buffer holds no complete request head yet.
	ErrIncomplete = errors.New("http1: incomplete request")
	// ErrBadRequest: a malformed request line or header, or framing that
	// cannot be trusted (400).
	ErrBadRequest = errors.New("http1: bad request")
	// ErrHeaderTooLarge: no complete head within MaxHeaderBytes (431).
	ErrHeaderTooLarge = errors.New("http1: request header fields too large")
	// ErrVersion: an HTTP major version other than 1 (505).
	ErrVersion = errors.New("http1: HTTP version not supported")
)

// Status is the response status for a Parse error.
func Status(err error) int {
	switch err {
	case ErrHeaderTooLarge:
		return 431
	case ErrVersion:
		return 505
	}
	return 400
}

// Method is the request method, as far as a plaintext server cares.
type Method uint8

const (
	// MethodOther is any method but GET and HEAD (405 here).
	MethodOther Method = iota
	// MethodGet is GET.
	MethodGet
	// MethodHead is HEAD.
	MethodHead
)

// Request is a parsed request head. Path aliases the buffer given to Parse
// and is valid until that buffer is reused.
type Request struct {
	Method    Method
	Path      []byte // the request-target as sent
	Minor     int    // HTTP/1.Minor (0 or 1; a higher minor is 1)
	KeepAlive bool   // the connection stays open after the response (RFC 9112 9.3)
	// The body that follows the head, which the server must read and
	// discard to find the next request: ContentLength bytes, or, when
	// Chunked, a chunked body (read it with a ChunkedSkipper).
	ContentLength int64
	Chunked       bool
}

// Parse parses one request head at the start of buf. It returns the
// request and the length of its head, ErrIncomplete when buf ends before
// the head does (parse again with more), or an error to answer with
// Status(err) before closing.
func Parse(buf []byte) (req Request, n int, err error) {
	// The request line: method SP request-target SP HTTP-version.
	i := 0
	for i < len(buf) && (buf[i] == '\r' || buf[i] == '\n') && i < 4 {
		i++ // RFC 9112 2.2: a server SHOULD ignore a few empty lines before a request
	}
	m := i
	for i < len(buf) && isTchar(buf[i]) {
		i++
	}
	if i == len(buf) {
		return req, 0, incomplete(len(buf))
	}
	if i == m || buf[i] != ' ' {
		return req, 0, ErrBadRequest
	}
	req.Method = method(buf[m:i])
	i++
	p := i
	for i < len(buf) && buf[i] > ' ' && buf[i] != 0x7f {
		i++
	}
	if i == len(buf) {
		return req, 0, incomplete(len(buf))
	}
	if i == p || buf[i] != ' ' {
		return req, 0, ErrBadRequest
	}
	req.Path = buf[p:i:i]
	i++
	// "HTTP/" DIGIT "." DIGIT
	const proto = "HTTP/"
	for k := 0; k < len(proto); k, i = k+1, i+1 {
		if i == len(buf) {
			return req, 0, incomplete(len(buf))
		}
		if buf[i] != proto[k] {
			return req, 0, ErrBadRequest
		}
	}
	if len(buf)-i < 3 {
		return req, 0, incomplete(len(buf))
	}
	major, dot, minor := buf[i], buf[i+1], buf[i+2]
	if !isDigit(major) || dot != '.' || !isDigit(minor) {
		return req, 0, ErrBadRequest
	}
	i += 3
	if major != '1' {
		return req, 0, ErrVersion
	}
	req.Minor = min(int(minor-'0'), 1)
	if i, err = lineEnd(buf, i); err != nil {
		return req, 0, err
	}

	// Header fields until the empty line.
	var host, conClose, conKeep, haveCL, haveTE bool
	for {
		if i == len(buf) {
			return req, 0, incomplete(len(buf))
		}
		if buf[i] == '\n' || buf[i] == '\r' { // the empty line
			if i, err = lineEnd(buf, i); err != nil {
				return req, 0, err
			}
			break
		}
		if i >= MaxHeaderBytes {
			return req, 0, ErrHeaderTooLarge
		}
		ns := i
		for i < len(buf) && isTchar(buf[i]) {
			i++
		}
		if i == len(buf) {
			return req, 0, incomplete(len(buf))
		}
		// No whitespace between name and colon (RFC 9112 5.1), no
		// obs-fold (5.2: a line starting with whitespace), no empty name.
		if i == ns || buf[i] != ':' {
			return req, 0, ErrBadRequest
		}
		name := buf[ns:i]
		i++
		for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t') {
			i++
		}
		vs := i
		i = skipVchar(buf, i)
		if i == len(buf) {
			return req, 0, incomplete(len(buf))
		}
		if buf[i] != '\r' && buf[i] != '\n' {
			return req, 0, ErrBadRequest // CTLs in a field value (RFC 9110 5.5)
		}
		ve := i
		for ve > vs && (buf[ve-1] == ' ' || buf[ve-1] == '\t') {
			ve--
		}
		value := buf[vs:ve]
		if i, err = lineEnd(buf, i); err != nil {
			return req, 0, err
		}
		switch {
		case equalFold(name, "host"):
			if host {
				return req, 0, ErrBadRequest // RFC 9112 3.2: more than one Host
			}
			host = true
		case equalFold(name, "connection"):
			c, k := connectionTokens(value)
			conClose, conKeep = conClose || c, conKeep || k
		case equalFold(name, "content-length"):
			cl, ok := parseLength(value)
			if !ok || haveCL && cl != req.ContentLength {
				return req, 0, ErrBadRequest // RFC 9112 6.3 (5): invalid or differing lengths
			}
			req.ContentLength, haveCL = cl, true
		case equalFold(name, "transfer-encoding"):
			// Every coding list must end with chunked (RFC 9112 6.3 (4)):
			// a request whose body length cannot be found is 400. Chunked
			// is applied at most once (RFC 9112 6.1), so it may not come
			// earlier in the list either, nor in a second field (whose
			// list continues the first, RFC 9110 5.3): the body would be
			// chunked twice and this skipper would stop at the wrong end.
			if haveTE || !chunkedOnceAtEnd(value) {
				return req, 0, ErrBadRequest
			}
			haveTE, req.Chunked = true, true
		}
		if i > MaxHeaderBytes {
			return req, 0, ErrHeaderTooLarge
		}
	}
	if i > MaxHeaderBytes {
		return req, 0, ErrHeaderTooLarge
	}
	if haveTE && haveCL {
		// Both framings: the classic smuggling vector; RFC 9112 6.1 lets a
		// server reject it, and since it must close anyway, it does.
		return req, 0, ErrBadRequest
	}
	if req.Minor == 1 && !host {
		return req, 0, ErrBadRequest // RFC 9112 3.2: a 1.1 request without Host
	}
	switch {
	case haveTE && req.Minor == 0:
		// RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding is
		// treated as faulty framing: close after answering it.
		req.KeepAlive = false
	case req.Minor == 1:
		req.KeepAlive = !conClose
	default:
		req.KeepAlive = conKeep && !conClose
	}
	return req, i, nil
}

// incomplete is ErrIncomplete, or ErrHeaderTooLarge when the buffer
// already holds more than a head may have.
func incomplete(n int) error {
	if n >= MaxHeaderBytes {
		return ErrHeaderTooLarge
	}
	return ErrIncomplete
}

// lineEnd consumes CRLF or a bare LF at buf[i].
func lineEnd(buf []byte, i int) (int, error) {
	if i == len(buf) {
		return 0, incomplete(len(buf))
	}
	if buf[i] == '\n' {
		return i + 1, nil
	}
	if buf[i] != '\r' {
		return 0, ErrBadRequest
	}
	if i+1 == len(buf) {
		return 0, incomplete(len(buf))
	}
	if buf[i+1] != '\n' {
		return 0, ErrBadRequest // a bare CR (RFC 9112 2.2)
	}
	return i + 2, nil
}

func method(m []byte) Method {
	switch string(m) { // no allocation: the compiler compares in place
	case "GET":
		return MethodGet
	case "HEAD":
		return MethodHead
	}
	return MethodOther
}

// parseLength parses a Content-Length value: 1*DIGIT, at most 18 digits
// (no overflow). A list of equal values ("5, 5") is allowed by RFC 9110
// 8.6 but no client sends one; it is refused.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// connectionTokens reads the close and keep-alive options of a Connection
// value (a comma-separated token list, RFC 9110 7.6.1).
func connectionTokens(v []byte) (close, keepAlive bool) {
	switch { // what clients send, without the list walk
	case equalFold(v, "keep-alive"):
		return false, true
	case equalFold(v, "close"):
		return true, false
	}
	for len(v) > 0 {
		tok, rest := nextToken(v)
		v = rest
		switch {
		case equalFold(tok, "close"):
			close = true
		case equalFold(tok, "keep-alive"):
			keepAlive = true
		}
	}
	return close, keepAlive
}

// chunkedOnceAtEnd reports whether the coding list v ends with chunked and
// names it nowhere else.
func chunkedOnceAtEnd(v []byte) bool {
	var last []byte
	chunked := 0
	for len(v) > 0 {
		tok, rest := nextToken(v)
		if len(tok) > 0 {
			last = tok
			if equalFold(tok, "chunked") {
				chunked++
			}
		}
		v = rest
	}
	return chunked == 1 && equalFold(last, "chunked")
}

// nextToken splits v at the first comma and trims whitespace (and any
// parameters after ';') from the element.
func nextToken(v []byte) (tok, rest []byte) {
	end := len(v)
	for k, c := range v {
		if c == ',' {
			end = k
			break
		}
	}
	tok, rest = v[:end], v[end:]
	if len(rest) > 0 {
		rest = rest[1:]
	}
	for k, c := range tok {
		if c == ';' {
			tok = tok[:k]
			break
		}
	}
	for len(tok) > 0 && (tok[0] == ' ' || tok[0] == '\t') {
		tok = tok[1:]
	}
	for len(tok) > 0 && (tok[len(tok)-1] == ' ' || tok[len(tok)-1] == '\t') {
		tok = tok[:len(tok)-1]
	}
	return tok, rest
}

// equalFold compares b with lower, a literal of lower-case letters and
// '-', ignoring case. Setting the 0x20 bit lower-cases a letter, and the
// only other byte it maps onto a letter or '-' is CR (onto '-'), which no
// token or field value that Parse hands in can hold.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for k := range len(b) {
		if b[k]|0x20 != lower[k] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isTchar reports a token character (RFC 9110 5.6.2).
func isTchar(c byte) bool { return tchar[c] }

var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// fieldVchar marks the bytes a field value may hold (RFC 9110 5.5:
// VCHAR, obs-text, SP and HTAB): every byte but the CTLs and DEL. One
// table lookup per byte is what keeps the scan of long values (Accept,
// User-Agent) cheap.
var fieldVchar = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= ' ' && c != 0x7f || c == '\t'
	}
	return t
}()

// skipVchar returns the index of the first byte at or after i that a
// field value may not hold (a CTL but HTAB, or DEL: CR and LF among them),
// or len(buf). It tests eight bytes at a time, values being most of a
// request head's bytes.
func skipVchar(buf []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for {
		for ; i+8 <= len(buf); i += 8 {
			w := binary.LittleEndian.Uint64(buf[i:]) // buf[i] in the low byte
			// A byte below 0x20 borrows into its own top bit in w-0x20..,
			// which &^w keeps only for bytes below 0x80 (obs-text is
			// allowed); a 0x7f byte is a zero byte of w^0x7f.., found by
			// the same borrow. A borrow can mark bytes above a match too,
			// never below one: the lowest mark is the first match.
			del := w ^ 0x7f*ones
			if m := ((w-0x20*ones)&^w | (del-ones)&^del) & highs; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
		}
		for i < len(buf) && fieldVchar[buf[i]] {
			i++
		}
		return i
	found:
		if buf[i] != '\t' {
			return i
		}
		i++ // HTAB is allowed: scan on
	}
}

// ChunkedSkipper consumes a chunked body (RFC 9112 7.1) across reads,
// keeping only its position, so that the request after it is found. The
// zero value is at the start of a body.
type ChunkedSkipper struct {
	state    uint8
	size     int64 // bytes of chunk data left, or the size being read
	digits   int
	lineUsed int // bytes of the current extension or trailer line
}

const (
	chSize     = iota // reading the hex size
	chExt             // after the size: extensions up to LF
	chData            // chunk data
	chDataCR          // the CRLF after the data
	chDataLF          //
	chTrailer         // a trailer line, or the final empty line
	chTrailerL        // inside a trailer line
	chDone
)

// maxChunkLine bounds an extension or a trailer line.
const maxChunkLine = 4 << 10

// Skip consumes as much of the chunked body as buf holds. It returns how
// many bytes it used and whether the body ended there; ErrBadRequest for a
// malformed body.
func (c *ChunkedSkipper) Skip(buf []byte) (n int, done bool, err error) {
	for n < len(buf) {
		b := buf[n]
		switch c.state {
		case chSize:
			switch {
			case isHex(b):
				if c.digits == 15 {
					return n, false, ErrBadRequest // a size beyond 2^60
				}
				c.size = c.size<<4 | int64(unhex(b))
				c.digits++
			case c.digits > 0 && (b == ';' || b == ' ' || b == '\t'):
				c.state = chExt
			case c.digits > 0 && b == '\r':
				c.state = chExt
			case c.digits > 0 && b == '\n':
				c.endSize()
			default:
				return n, false, ErrBadRequest
			}
		case chExt:
			if b == '\n' {
				c.endSize()
			} else if c.lineUsed++; c.lineUsed > maxChunkLine {
				return n, false, ErrBadRequest
			}
		case chData:
			k := int(min(int64(len(buf)-n), c.size))
			c.size -= int64(k)
			n += k
			if c.size == 0 {
				c.state = chDataCR
			}
			continue
		case chDataCR:
			switch b {
			case '\r':
				c.state = chDataLF
			case '\n':
				c.state = chSize
			default:
				return n, false, ErrBadRequest
			}
		case chDataLF:
			if b != '\n' {
				return n, false, ErrBadRequest
			}
			c.state = chSize
		case chTrailer:
			switch b {
			case '\r':
				// the empty line's CR, or the start of a bad line; the
				// LF decides
			case '\n':
				n++
				c.state = chDone
				return n, true, nil
			default:
				c.state, c.lineUsed = chTrailerL, 1
			}
		case chTrailerL:
			if b == '\n' {
				c.state = chTrailer
			} else if c.lineUsed++; c.lineUsed > maxChunkLine {
				return n, false, ErrBadRequest
			}
		case chDone:
			return n, true, nil
		}
		n++
	}
	return n, c.state == chDone, nil
}

// endSize ends a chunk-size line: data follows, or the last chunk's
// trailers.
func (c *ChunkedSkipper) endSize() {
	c.lineUsed, c.digits = 0, 0
	if c.size == 0 {
		c.state = chTrailer
		return
	}
	c.state = chData
}

func isHex(b byte) bool {
	return isDigit(b) || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func unhex(b byte) byte {
	switch {
	case isDigit(b):
		return b - '0'
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10
	}
	return b - 'A' + 10
}
