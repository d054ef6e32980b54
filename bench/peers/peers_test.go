package peers

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/bench/peers/httpcheck"
)

// TestPeersAnswerCorrectly builds the three peer servers as make
// bench-http runs them and puts each through httpcheck, with one loop and
// with two.
func TestPeersAnswerCorrectly(t *testing.T) {
	goBin, err := exec.LookPath("go") // go test puts GOROOT/bin first in PATH
	if err != nil {
		t.Fatalf("go not found: %v", err)
	}
	dir := t.TempDir()
	build := exec.Command(goBin, "build", "-o", dir+string(filepath.Separator), "./nethttp", "./fasthttp", "./gnet")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, name := range []string{"nethttp", "fasthttp", "gnet"} {
		for _, loops := range []int{1, 2} {
			t.Run(name+"-"+strconv.Itoa(loops), func(t *testing.T) {
				addr := start(t, filepath.Join(dir, name), "-loops", strconv.Itoa(loops))
				if err := httpcheck.Check(addr); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// start runs bin on a free loopback port until the test ends and returns
// its address once it accepts.
func start(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for range 200 { // up to 10 s
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not accept on %s within 10s", bin, addr)
	return ""
}
