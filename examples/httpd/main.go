//go:build linux && (amd64 || arm64)

// Command httpd is an HTTP/1.1 server for TechEmpower's plaintext
// (GET /plaintext) and json (GET /json) tests on rawpoll's selector and
// sock: one event loop per core, each on a locked OS thread with its own
// selector and its own SO_REUSEPORT listener; requests parsed in place
// from the connection's buffer (package http1), every request of a read
// answered in order and the answers written with one write, nothing
// allocated per request.
//
//	go run ./examples/httpd [-addr 127.0.0.1:8080] [-loops N] [-cpuprofile file]
//
// SIGINT or SIGTERM stops it: the listeners are closed first, then the
// connections.
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "IPv4 address:port to listen on (port 0 picks one)")
	loops := flag.Int("loops", runtime.GOMAXPROCS(0), "event loops (one locked OS thread each)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until stopped")
	flag.Parse()
	os.Exit(run(*addr, *loops, *cpuprofile))
}

// testHookListening, when set (by a test), runs once the listeners are
// open, before the banner.
var testHookListening func()

func run(addr string, loops int, cpuprofile string) int {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		fmt.Fprintf(os.Stderr, "httpd: -addr %q: want an IPv4 address:port\n", addr)
		return 2
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "httpd:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "httpd:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	// Signals are caught before the listeners open, so none is missed.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	srv, err := NewServer(Config{Addr: ap.Addr().As4(), Port: int(ap.Port()), Loops: loops})
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpd:", err)
		return 1
	}
	if testHookListening != nil {
		testHookListening()
	}
	fmt.Printf("httpd: %d loops on %s:%d, %s (pid %d)\n", len(srv.loops), ap.Addr(), srv.Port(), srv.Backend(), os.Getpid())
	done := make(chan struct{})
	go func() {
		srv.Serve()
		close(done)
	}()
	select {
	case s := <-sig:
		fmt.Printf("httpd: %v: stopping\n", s)
		srv.Close() // listeners first, then connections (Server.Close)
		<-done
	case <-done:
	}
	var accepted, closed, requests, acceptErrs uint64
	for _, st := range srv.Stats() {
		accepted += st.Accepted.Load()
		closed += st.Closed.Load()
		requests += st.Requests.Load()
		acceptErrs += st.AcceptErrors.Load()
	}
	fmt.Printf("httpd: stopped: %d requests; connections accepted %d, closed %d, %d accept errors\n", requests, accepted, closed, acceptErrs)
	return 0
}
