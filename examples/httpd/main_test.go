//go:build linux

package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestMain runs the command itself when TestSignal starts this test binary
// as a child with HTTPD_TEST_MAIN set.
func TestMain(m *testing.M) {
	if os.Getenv("HTTPD_TEST_MAIN") == "1" {
		os.Exit(run("127.0.0.1:0", 2, ""))
	}
	os.Exit(m.Run())
}

// TestSignal: the command stops on SIGINT and on SIGTERM: an open
// keep-alive connection reads EOF, the port refuses connections, and the
// process exits 0.
func TestSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, stdout, err := startSelf(t) // or a loud SKIP
			if err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			waited := false
			defer func() {
				if !waited { // a failed test leaves no process behind
					cmd.Process.Kill()
					<-exited
				}
			}()
			lines := bufio.NewScanner(stdout)
			banner := make(chan string, 1)
			go func() {
				if lines.Scan() {
					banner <- lines.Text()
				}
				close(banner)
				io.Copy(io.Discard, stdout)
			}()
			var line string
			select {
			case line = <-banner:
			case <-time.After(20 * time.Second):
				t.Fatal("no banner within 20s")
			}
			m := regexp.MustCompile(`on (127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("banner %q names no address", line)
			}
			addr := m[1]
			c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(c)
			io.WriteString(c, get("/json"))
			if r, err := readResponse(br, "GET"); err != nil || checkOK(r, "/json", false) != nil {
				t.Fatalf("before the signal: %v", err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("keep-alive connection after %v: %v, want EOF", sig, err)
			}
			select {
			case err := <-exited:
				waited = true
				if err != nil {
					t.Fatalf("exit after %v: %v", sig, err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("still running 20s after %v", sig)
			}
			if c, err := net.DialTimeout("tcp4", addr, 5*time.Second); err == nil {
				c.Close()
				t.Fatalf("%s still accepts after exit", addr)
			}
		})
	}
}

// startSelf starts this test binary as the command. Under qemu-user
// without binfmt_misc (make test-arm64) the binary cannot exec itself
// (ENOEXEC), but the host's qemu-aarch64-static, an executable of the
// host, runs natively when exec'd from inside the emulation, and runs the
// child under emulation too. Without it the test skips, loudly.
func startSelf(t *testing.T) (*exec.Cmd, io.Reader, error) {
	for _, argv := range [][]string{{os.Args[0]}, {"qemu-aarch64-static", os.Args[0]}} {
		if runtime.GOARCH != "arm64" && len(argv) > 1 {
			break
		}
		cmd := exec.Command(argv[0], append(argv[1:], "-test.run=^$")...)
		cmd.Env = append(os.Environ(), "HTTPD_TEST_MAIN=1")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
		cmd.Stderr = os.Stderr
		err = cmd.Start()
		if err == nil {
			return cmd, stdout, nil
		}
		if !errors.Is(err, syscall.ENOEXEC) && !errors.Is(err, exec.ErrNotFound) {
			return nil, nil, err
		}
		t.Logf("%v: %v", argv, err)
	}
	t.Skip("SKIP: cannot re-execute the test binary (no binfmt_misc, no qemu-aarch64-static): the command's signal handling is NOT TESTED here")
	panic("unreachable") // Skip ends the test's goroutine
}
