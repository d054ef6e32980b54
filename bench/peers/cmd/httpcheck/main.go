// Command httpcheck checks that the server at -addr answers TechEmpower's
// plaintext and json tests exactly (package httpcheck); make bench-http
// runs it against every server before measuring it. It prints what failed
// and exits 1, or exits 0 silently.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/rawpoll/rawpoll/bench/peers/httpcheck"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the server to check")
	flag.Parse()
	if err := httpcheck.Check(*addr); err != nil {
		fmt.Fprintf(os.Stderr, "httpcheck %s:\n%v\n", *addr, err)
		os.Exit(1)
	}
}
