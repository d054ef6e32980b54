package http1

import (
	"strconv"
	"time"
)

// The TechEmpower bodies.
const (
	PlaintextBody = "Hello, World!"
	JSONMessage   = "Hello, World!"
)

// Date keeps the Date header's value (RFC 9110 5.6.7 IMF-fixdate, 29
// bytes), formatted once a second, not per response. It belongs to one
// event loop: no locking.
type Date struct {
	buf  [29]byte
	unix int64 // the second buf was formatted for
}

// Refresh formats now if its second differs from the last one's; it
// reports whether it did.
func (d *Date) Refresh(now time.Time) bool {
	sec := now.Unix()
	if sec == d.unix && d.buf[0] != 0 {
		return false
	}
	d.unix = sec
	now.UTC().AppendFormat(d.buf[:0], "Mon, 02 Jan 2006 15:04:05 GMT")
	return true
}

// Bytes is the formatted value.
func (d *Date) Bytes() []byte { return d.buf[:] }

// Respond appends the response to req to dst and reports whether the
// connection must be closed after it. Routes: GET or HEAD /plaintext and
// /json (TechEmpower's rules: Server, Date, Content-Type and
// Content-Length on every response); any other path 404; any other
// method 405.
func Respond(dst []byte, req *Request, date *Date) (out []byte, closeAfter bool) {
	closeAfter = !req.KeepAlive
	head := req.Method == MethodHead
	switch {
	case req.Method == MethodOther:
		return appendStatus(dst, 405, "Method Not Allowed", date, closeAfter, req.Minor, "Allow: GET, HEAD\r\n"), closeAfter
	case string(req.Path) == "/plaintext":
		dst = appendHead(dst, 200, "OK", date, closeAfter, req.Minor)
		dst = append(dst, "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n"...)
		if !head {
			dst = append(dst, PlaintextBody...)
		}
		return dst, closeAfter
	case string(req.Path) == "/json":
		// Serialised per request, as TechEmpower asks, into a buffer on
		// the stack (a message that outgrew it would be moved to the heap
		// by append, not truncated): Content-Length is its length.
		var scratch [64]byte
		body := appendJSONMessage(scratch[:0], JSONMessage)
		dst = appendHead(dst, 200, "OK", date, closeAfter, req.Minor)
		dst = append(dst, "Content-Type: application/json\r\nContent-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n\r\n"...)
		if !head {
			dst = append(dst, body...)
		}
		return dst, closeAfter
	}
	return appendStatus(dst, 404, "Not Found", date, closeAfter, req.Minor, ""), closeAfter
}

// RespondError appends the response for a Parse error; the connection is
// closed after it.
func RespondError(dst []byte, err error, date *Date) []byte {
	code := Status(err)
	reason := "Bad Request"
	switch code {
	case 431:
		reason = "Request Header Fields Too Large"
	case 505:
		reason = "HTTP Version Not Supported"
	}
	return appendStatus(dst, code, reason, date, true, 1, "")
}

func appendHead(dst []byte, code int, reason string, date *Date, closeAfter bool, minor int) []byte {
	if code == 200 { // the common case in one copy
		dst = append(dst, "HTTP/1.1 200 OK\r\nServer: rawpoll\r\nDate: "...)
	} else {
		dst = append(dst, "HTTP/1.1 "...)
		dst = strconv.AppendInt(dst, int64(code), 10)
		dst = append(dst, ' ')
		dst = append(dst, reason...)
		dst = append(dst, "\r\nServer: rawpoll\r\nDate: "...)
	}
	dst = append(dst, date.Bytes()...)
	dst = append(dst, "\r\n"...)
	switch {
	case closeAfter:
		dst = append(dst, "Connection: close\r\n"...)
	case minor == 0:
		dst = append(dst, "Connection: keep-alive\r\n"...) // HTTP/1.0 asked for it (RFC 9112 9.3)
	}
	return dst
}

func appendStatus(dst []byte, code int, reason string, date *Date, closeAfter bool, minor int, extra string) []byte {
	dst = appendHead(dst, code, reason, date, closeAfter, minor)
	dst = append(dst, extra...)
	return append(dst, "Content-Type: text/plain\r\nContent-Length: 0\r\n\r\n"...)
}

// appendJSONMessage appends {"message":m} with m escaped as a JSON string
// (RFC 8259 7: quotation mark, reverse solidus and the control
// characters; encoding/json also escapes <, > and & for HTML, which JSON
// does not need), without allocating. The runs between escapes are
// copied whole.
func appendJSONMessage(dst []byte, m string) []byte {
	dst = append(dst, `{"message":"`...)
	run := 0
	for k := 0; k < len(m); k++ {
		c := m[k]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, m[run:k]...)
		if c < 0x20 {
			dst = append(dst, '\\', 'u', '0', '0', hexDigit[c>>4], hexDigit[c&15])
		} else {
			dst = append(dst, '\\', c)
		}
		run = k + 1
	}
	dst = append(dst, m[run:]...)
	return append(dst, `"}`...)
}

const hexDigit = "0123456789abcdef"
