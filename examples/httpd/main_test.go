//go:build linux && (amd64 || arm64)

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain runs the command itself when TestSignal starts this test binary
// as a child with HTTPD_TEST_MAIN set.
func TestMain(m *testing.M) {
	if os.Getenv("HTTPD_TEST_MAIN") == "1" {
		if v := os.Getenv("HTTPD_TEST_SPARE_FDS"); v != "" {
			// TestAcceptEMFILE: leave the server this many descriptors.
			spare, _ := strconv.Atoi(v)
			testHookListening = func() {
				// A new descriptor takes the lowest free number below the
				// limit: find the limit that leaves spare numbers free
				// (descriptors inherited with higher numbers do not count).
				d, err := os.Open("/proc/self/fd")
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				names, _ := d.Readdirnames(-1)
				used := map[int]bool{}
				for _, name := range names {
					fd, _ := strconv.Atoi(name)
					used[fd] = fd != int(d.Fd()) // the directory's own is closed again
				}
				d.Close()
				n := 0
				for free := 0; free < spare; n++ {
					if !used[n] {
						free++
					}
				}
				if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: uint64(n), Max: uint64(n)}); err != nil {
					fmt.Fprintln(os.Stderr, "setrlimit:", err)
					os.Exit(3)
				}
			}
		}
		os.Exit(run("127.0.0.1:0", 2, ""))
	}
	os.Exit(m.Run())
}

// child is the command, run by this test binary as a child process.
type child struct {
	cmd    *exec.Cmd
	out    *syncBuffer // its standard output
	addr   string
	exited chan error
	waited bool
}

type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startChild starts the command with env added and waits (bounded) for
// the address in its banner; the test's end kills it if it still runs.
func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	out := &syncBuffer{}
	cmd := startSelf(t, out, env) // or a loud SKIP
	ch := &child{cmd: cmd, out: out, exited: make(chan error, 1)}
	go func() { ch.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if !ch.waited { // a failed test leaves no process behind
			cmd.Process.Kill()
			<-ch.exited
		}
	})
	banner := regexp.MustCompile(`on (127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if m := banner.FindStringSubmatch(out.String()); m != nil {
			ch.addr = m[1]
			return ch
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner within 20s; output %q", out.String())
		}
	}
}

// wait waits (up to 20s) for the child's exit.
func (ch *child) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ch.exited:
		ch.waited = true
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the command still runs after 20s")
	}
	return nil
}

func dialAddr(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// TestSignal: the command stops on SIGINT and on SIGTERM: an open
// keep-alive connection reads EOF, the process exits 0, and the port
// refuses connections.
func TestSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ch := startChild(t)
			c, br := dialAddr(t, ch.addr)
			io.WriteString(c, get("/json"))
			if r, err := readResponse(br, "GET"); err != nil || checkOK(r, "/json", false) != nil {
				t.Fatalf("before the signal: %v", err)
			}
			if err := ch.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("keep-alive connection after %v: %v, want EOF", sig, err)
			}
			if err := ch.wait(t); err != nil {
				t.Fatalf("exit after %v: %v", sig, err)
			}
			if c, err := net.DialTimeout("tcp4", ch.addr, 5*time.Second); err == nil {
				c.Close()
				t.Fatalf("%s still accepts after exit", ch.addr)
			}
		})
	}
}

// TestAcceptEMFILE: a server out of descriptors (RLIMIT_NOFILE leaves it
// room for 6 connections) answers the connections it could accept, keeps
// the others queued, and accepts and answers them once descriptors are
// free again: accept backs off and retries, since the listener does not
// report the queued connections again.
func TestAcceptEMFILE(t *testing.T) {
	const room, extra = 6, 4
	ch := startChild(t, "HTTPD_TEST_SPARE_FDS="+strconv.Itoa(room))
	type answer struct {
		i   int
		err error
	}
	answers := make(chan answer, room+extra)
	conns := make([]net.Conn, room+extra)
	for i := range conns {
		c, br := dialAddr(t, ch.addr) // the handshake needs no accept: it succeeds
		conns[i] = c
		go func() {
			io.WriteString(c, get("/plaintext"))
			r, err := readResponse(br, "GET")
			if err == nil {
				err = checkOK(r, "/plaintext", false)
			}
			answers <- answer{i, err}
		}()
	}
	// The first room answers come from the connections it accepted. They
	// stay open a while, so that both loops try to accept the extra ones
	// while the server is full (closed at once, a loop that woke late found
	// room and the test proved nothing: 1 run in 40 on the poll build).
	var first []int
	for range room {
		a := <-answers
		if a.err != nil {
			t.Fatalf("connection %d: %v", a.i, a.err)
		}
		first = append(first, a.i)
	}
	time.Sleep(100 * time.Millisecond)
	for _, i := range first {
		conns[i].Close() // frees a descriptor in the server
	}
	for range extra {
		a := <-answers // bounded by the connections' 20s deadline
		if a.err != nil {
			t.Fatalf("connection %d, queued while the server was out of descriptors: %v", a.i, a.err)
		}
	}
	ch.cmd.Process.Signal(syscall.SIGTERM)
	if err := ch.wait(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
	// The command's last line counts the accept errors: the test must
	// have run out of descriptors, or it proved nothing.
	m := regexp.MustCompile(`accepted (\d+), closed (\d+), (\d+) accept errors`).FindStringSubmatch(ch.out.String())
	if m == nil {
		t.Fatalf("no counts in the output %q", ch.out.String())
	}
	if m[1] != strconv.Itoa(room+extra) || m[2] != m[1] || m[3] == "0" {
		t.Fatalf("accepted %s, closed %s, %s accept errors; want %d, %d and some", m[1], m[2], m[3], room+extra, room+extra)
	}
	t.Logf("%s accept errors (EMFILE) before the queued connections were accepted", m[3])
}

// startSelf starts this test binary as the command, its standard output
// to out. Under qemu-user without binfmt_misc (make test-arm64) the binary
// cannot exec itself (ENOEXEC), but the host's qemu-aarch64-static, an
// executable of the host, runs natively when exec'd from inside the
// emulation, and runs the child under emulation too. Without it the test
// skips, loudly.
func startSelf(t *testing.T, out io.Writer, env []string) *exec.Cmd {
	for _, argv := range [][]string{{os.Args[0]}, {"qemu-aarch64-static", os.Args[0]}} {
		if runtime.GOARCH != "arm64" && len(argv) > 1 {
			break
		}
		cmd := exec.Command(argv[0], append(argv[1:], "-test.run=^$")...)
		cmd.Env = append(append(os.Environ(), "HTTPD_TEST_MAIN=1"), env...)
		cmd.Stdout, cmd.Stderr = out, os.Stderr
		err := cmd.Start()
		if err == nil {
			return cmd
		}
		if !errors.Is(err, syscall.ENOEXEC) && !errors.Is(err, exec.ErrNotFound) {
			t.Fatal(err)
		}
		t.Logf("%v: %v", argv, err)
	}
	t.Skip("SKIP: cannot re-execute the test binary (no binfmt_misc, no qemu-aarch64-static): the command is NOT TESTED here")
	panic("unreachable") // Skip ends the test's goroutine
}
