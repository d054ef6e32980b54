//go:build linux && (amd64 || arm64)

// Command echoload is a closed-loop load generator for echo servers: C
// connections each write an S-byte message, read it back whole, and write
// the next, for a duration after a warm-up. All connections are driven
// from one locked OS thread on a rawpoll selector, so that on a small
// machine the server, not the generator, is what saturates.
//
//	echoload -addr 127.0.0.1:7007 -c 64 -size 64 -duration 5s [-pid SERVERPID]
//
// It prints one line of key=value pairs: msgs/s, round-trip p50, p90, p99
// and p99.9, and with -pid the server's CPU time per message, from
// /proc/PID/stat (utime+stime of all its threads) over the measured window.
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/rawsys"
	"github.com/rawpoll/rawpoll/selector"
)

type client struct {
	fd          int
	sent        int64 // when the current message was written
	wOff, rGot  int
	buf, expect []byte
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7007", "server IPv4 address:port")
	conns := flag.Int("c", 1, "connections")
	size := flag.Int("size", 64, "message size in bytes")
	dur := flag.Duration("duration", 5*time.Second, "measured time")
	warm := flag.Duration("warmup", time.Second, "warm-up before measuring")
	pid := flag.Int("pid", 0, "server pid, for CPU time per message")
	flag.Parse()
	if err := run(*addr, *conns, *size, *warm, *dur, *pid); err != nil {
		fmt.Fprintln(os.Stderr, "echoload:", err)
		os.Exit(1)
	}
}

func run(addr string, nconn, size int, warm, dur time.Duration, pid int) error {
	runtime.LockOSThread()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return fmt.Errorf("-addr %q: want IPv4 address:port", addr)
	}
	if nconn < 1 || size < 1 {
		return fmt.Errorf("-c and -size must be positive")
	}
	sel, err := selector.New()
	if err != nil {
		return err
	}
	defer sel.Close()
	cs := make([]client, nconn)
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte('a' + i%26)
	}
	for i := range cs {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); err != nil {
			return fmt.Errorf("connect %d: %w", i, err)
		}
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := unix.SetNonblock(fd, true); err != nil {
			return err
		}
		cs[i] = client{fd: fd, buf: make([]byte, size), expect: msg}
		if err := sel.Register(fd, selector.Token(i), selector.Readable|selector.Writable); err != nil {
			return err
		}
	}
	// Round-trip times of the measured window, preallocated generously.
	rtts := make([]int64, 0, 1<<22)
	now := func() int64 { return time.Now().UnixNano() }
	start := now()
	measureFrom, end := start+int64(warm), start+int64(warm+dur)
	var msgs int64
	var cpu0 float64
	cpuTaken := false
	send := func(c *client) error {
		if c.wOff == 0 {
			c.sent = now()
		}
		for c.wOff < size {
			n, errno := rawsys.Write(c.fd, msg[c.wOff:])
			if errno == syscall.EAGAIN {
				return nil // finished on the next writable event
			}
			if errno != 0 {
				return errno
			}
			c.wOff += n
		}
		return nil
	}
	for i := range cs {
		if err := send(&cs[i]); err != nil {
			return err
		}
	}
	events := selector.NewEvents(1024)
	for {
		t := now()
		if t >= end {
			break
		}
		if !cpuTaken && t >= measureFrom && pid > 0 {
			if cpu0, err = cpuSeconds(pid); err != nil {
				return err
			}
			cpuTaken = true
		}
		if err := sel.Select(events, 100*time.Millisecond); err != nil {
			return err
		}
		for ev := range events.All() {
			c := &cs[ev.Token()]
			if c.wOff < size {
				if err := send(c); err != nil {
					return err
				}
			}
			for c.rGot < size {
				n, errno := rawsys.Read(c.fd, c.buf[c.rGot:])
				if n == 0 && errno == 0 {
					return fmt.Errorf("server closed connection %d", ev.Token())
				}
				if errno == syscall.EAGAIN {
					break
				}
				if errno != 0 {
					return errno
				}
				c.rGot += n
			}
			if c.rGot == size && c.wOff == size { // a whole round trip
				done := now()
				if done >= measureFrom && done < end {
					msgs++
					if len(rtts) < cap(rtts) {
						rtts = append(rtts, done-c.sent)
					}
				}
				c.rGot, c.wOff = 0, 0
				if err := send(c); err != nil {
					return err
				}
			}
		}
	}
	elapsed := float64(dur) / 1e9
	line := fmt.Sprintf("c=%d size=%d msgs/s=%.0f", nconn, size, float64(msgs)/elapsed)
	if len(rtts) > 0 {
		slices.Sort(rtts)
		q := func(f float64) time.Duration { return time.Duration(rtts[min(len(rtts)-1, int(f*float64(len(rtts))))]) }
		line += fmt.Sprintf(" p50=%.1fus p90=%.1fus p99=%.1fus p99.9=%.1fus",
			us(q(0.50)), us(q(0.90)), us(q(0.99)), us(q(0.999)))
	}
	if pid > 0 && cpuTaken && msgs > 0 {
		cpu1, err := cpuSeconds(pid)
		if err != nil {
			return err
		}
		line += fmt.Sprintf(" cpu/msg=%.2fus", (cpu1-cpu0)/float64(msgs)*1e6)
	}
	fmt.Println(line)
	return nil
}

func us(d time.Duration) float64 { return float64(d) / 1e3 }

// cpuSeconds reads utime+stime (all threads) of pid from /proc/PID/stat,
// in seconds. Fields 14 and 15 count clock ticks (USER_HZ, 100 on Linux;
// proc(5)).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: split after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	const userHZ = 100
	return float64(ut+st) / userHZ, nil
}
