package main

// examples/httpd/http1's request parser, per request: the head of the
// TechEmpower plaintext request, parsed in place. There is no x/sys
// counterpart; net/http's ReadRequest allocates, which the counting
// refuses inside a measured loop.

import "github.com/rawpoll/rawpoll/examples/httpd/http1"

func init() {
	rows = append(rows, row{name: "HTTP1Parse/req=plaintext/impl=rawsys", setup: http1Parse})
}

func http1Parse() (func(int), func()) {
	req := []byte("GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\nConnection: keep-alive\r\n\r\n")
	return func(n int) {
		for range n {
			if r, k, err := http1.Parse(req); err != nil || k != len(req) || !r.KeepAlive {
				panic(err)
			}
		}
	}, nil
}
