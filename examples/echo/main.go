//go:build linux && (amd64 || arm64)

// Command echo is a latency-sensitive TCP echo server on rawpoll's
// selector and sock: one event loop per core, each on a locked OS thread
// with its own selector and its own SO_REUSEPORT sock.Listener;
// connections accepted straight into a sock.Slab (generation-tagged
// tokens), reads and writes through sock.Conn (rawsys's raw stubs), one
// reused buffer per connection, nothing allocated per message.
//
//	go run ./examples/echo [-addr 127.0.0.1:7007] [-loops N] [-busy-poll 50us] [-stats] [-backend io_uring]
//
// With -backend io_uring (where the kernel allows it) connections are
// served through the rings: sock.Conn.RecvRing and SendRing, so a message
// costs no read or write system call, only its share of the loop's one
// io_uring_enter per wake-up.
//
// SIGINT or SIGTERM stops it.
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
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7007", "IPv4 address:port to listen on")
	loops := flag.Int("loops", runtime.GOMAXPROCS(0), "event loops (one locked OS thread each)")
	busy := flag.Duration("busy-poll", 0, "spin with zero-timeout Selects this long before blocking")
	stats := flag.Bool("stats", false, "print messages, bytes and loop latency p50/p99 every second")
	backend := flag.String("backend", "", "selector backend: epoll or io_uring (io_uring serves through its rings; falls back to epoll where refused); default: RAWPOLL_BACKEND, else epoll")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until stopped")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().Is4() {
		fmt.Fprintf(os.Stderr, "echo: -addr %q: want an IPv4 address:port\n", *addr)
		os.Exit(2)
	}
	srv, err := NewServer(Config{Addr: ap.Addr().As4(), Port: int(ap.Port()), Loops: *loops, BusyPoll: *busy, Stats: *stats, Backend: *backend})
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	fmt.Printf("echo: %d loops on %s:%d, %s (pid %d)\n", *loops, ap.Addr(), srv.Port(), srv.Backend(), os.Getpid())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		srv.Serve()
		close(done)
	}()
	var tick <-chan time.Time
	if *stats {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	var lastMsgs, lastBytes uint64
	for {
		select {
		case s := <-sig:
			fmt.Printf("echo: %v: stopping\n", s)
			srv.Close()
			<-done
			return
		case <-tick:
			var msgs, bytes uint64
			var p50, p99 time.Duration
			for _, st := range srv.Stats() {
				msgs += st.Msgs.Load()
				bytes += st.Bytes.Load()
				a, b, _ := st.lat.snapshot()
				p50, p99 = max(p50, a), max(p99, b)
			}
			fmt.Printf("echo: %d msgs/s, %.1f MB/s, loop latency p50 <= %v p99 <= %v\n",
				msgs-lastMsgs, float64(bytes-lastBytes)/1e6, p50, p99)
			lastMsgs, lastBytes = msgs, bytes
		}
	}
}
