//go:build amd64 || arm64

package sock_test

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/sock"
)

// Linux only: it counts descriptors in /proc/self/fd, and Rlimit's field
// types differ across the BSDs.

// TestAcceptEMFILE: out of descriptors, Accept returns EMFILE (testable
// with errors.Is) and leaves the connection queued; once descriptors are
// free again, the next Accept takes it.
func TestAcceptEMFILE(t *testing.T) {
	l := listen(t, lo4)
	client, err := sock.Dial(l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	time.Sleep(20 * time.Millisecond) // the handshake completes in the kernel
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	// The highest open descriptor bounds the limit from below: accept4
	// needs a number below the soft limit, and none is free under it.
	lim := syscall.Rlimit{Cur: uint64(len(ents)), Max: old.Max}
	var c sock.Conn
	func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Skipf("SKIP: cannot lower RLIMIT_NOFILE: %v", err)
		}
		defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
		// Fill every number below the limit that is still free.
		var filler []int
		defer func() {
			for _, fd := range filler {
				unix.Close(fd)
			}
		}()
		for range 1000 {
			fd, err := unix.Dup(0)
			if err != nil {
				break
			}
			filler = append(filler, fd)
		}
		_, err = l.Accept(&c)
	}()
	if !errors.Is(err, syscall.EMFILE) {
		t.Fatalf("Accept out of descriptors: %v, want EMFILE", err)
	}
	if c.Fd() != -1 {
		t.Fatal("the Conn was filled after EMFILE")
	}
	if _, err := l.Accept(&c); err != nil {
		t.Fatalf("Accept after descriptors were freed: %v (the connection should still be queued)", err)
	}
	c.Close()
}
