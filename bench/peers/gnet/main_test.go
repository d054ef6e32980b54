package main

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	one := "GET /plaintext?x=1 HTTP/1.1\r\nHost: h\r\nconnection: Keep-Alive, Upgrade\r\n\r\n"
	withBody := "GET /json HTTP/1.0\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc"
	buf := one + withBody
	for k := range len(buf) { // every prefix: one request or none, never a wrong one
		_, n, outcome := parse([]byte(buf[:k]))
		switch {
		case k < len(one) && outcome != incomplete:
			t.Fatalf("prefix %d of %d: outcome %d, want incomplete", k, len(buf), outcome)
		case k >= len(one) && (outcome != complete || n != len(one)):
			t.Fatalf("prefix %d: outcome %d n %d, want complete %d", k, outcome, n, len(one))
		}
	}
	r, n, outcome := parse([]byte(buf))
	if outcome != complete || n != len(one) || string(r.method) != "GET" || string(r.path) != "/plaintext" || !r.keepAlive || r.http10 {
		t.Fatalf("first: %+v n=%d outcome=%d", r, n, outcome)
	}
	r, n, outcome = parse([]byte(buf[n:]))
	if outcome != complete || n != len(withBody) || string(r.path) != "/json" || !r.keepAlive || !r.http10 {
		t.Fatalf("second: %+v n=%d outcome=%d", r, n, outcome)
	}
	for in, want := range map[string]int{
		"GET /plaintext HTTP/1.1\r\nConnection: close\r\n\r\n":          complete,
		"GET /plaintext HTTP/1.0\r\n\r\n":                               complete,
		"GET /plaintext HTTP/2.0\r\n\r\n":                               bad,
		"GET plaintext HTTP/1.1\r\n\r\n":                                bad,
		"GET /plaintext\r\n\r\n":                                        bad,
		"GET /plaintext HTTP/1.1\r\nBad Name: x\r\n\r\n":                bad,
		"GET /plaintext HTTP/1.1\r\nNoColon\r\n\r\n":                    bad,
		"GET /plaintext HTTP/1.1\r\nContent-Length: -1\r\n\r\n":         bad,
		"GET /plaintext HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n": chunked,
		"GET /" + strings.Repeat("a", maxHeader) + " HTTP/1.1\r\n":      tooLarge,
	} {
		if r, _, got := parse([]byte(in)); got != want {
			t.Errorf("parse(%.40q) = %d, want %d", in, got, want)
		} else if got == complete && r.keepAlive {
			t.Errorf("parse(%.40q): keep-alive, want close", in)
		}
	}
}
