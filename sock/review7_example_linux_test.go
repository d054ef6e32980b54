//go:build linux && (amd64 || arm64)

package sock_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

func openFds(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestReview7EchoExampleAdversarial drives the package example's loop as
// users' clients would: a half-close while the server's writes are
// blocked (the echo must come back whole, then EOF), clients that send and
// close with the echo unread, RSTs, and many small connections at once.
// Every connection the loop accepted must be closed again: the open
// descriptors return to what they were before the clients came.
func TestReview7EchoExampleAdversarial(t *testing.T) {
	ln, wake, done := startEchoExample(t)
	defer func() {
		wake.Wake()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Error("loop did not stop")
		}
	}()
	base := openFds(t)
	addr := ln.Addr().String()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	dial := func() (*net.TCPConn, bool) {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			errs <- err
			return nil, false
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		return c.(*net.TCPConn), true
	}
	// Half-close while the server's writes are blocked.
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, ok := dial()
			if !ok {
				return
			}
			defer c.Close()
			c.SetReadBuffer(128 << 10)
			msg := bytes.Repeat([]byte{byte(i + 1), 2, 3, 5, 7, 11, 13}, (8<<20)/7)
			go func() {
				if _, err := c.Write(msg); err == nil {
					c.CloseWrite()
				}
			}()
			time.Sleep(300 * time.Millisecond) // the server's writes block meanwhile
			back, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(back, msg) {
				errs <- fmt.Errorf("half-close: got %d of %d bytes, err %v", len(back), len(msg), err)
			}
		}()
	}
	// Send, then close with the echo unread; and RST.
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, ok := dial()
			if !ok {
				return
			}
			c.Write(make([]byte, 256<<10*(i%3)+100))
			if i%2 == 1 {
				c.SetLinger(0) // RST
			}
			c.Close()
		}()
	}
	// Many small connections.
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, ok := dial()
			if !ok {
				return
			}
			defer c.Close()
			msg := []byte(fmt.Sprintf("hello %d", i))
			c.Write(msg)
			c.CloseWrite()
			back, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(back, msg) {
				errs <- fmt.Errorf("small %d: got %q, err %v", i, back, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n := openFds(t)
	for deadline := time.Now().Add(10 * time.Second); n > base && time.Now().Before(deadline); n = openFds(t) {
		time.Sleep(10 * time.Millisecond)
	}
	if n > base { // fewer: a descriptor the runtime had open at the start
		t.Errorf("%d descriptors open after the clients left, %d before: the loop leaked connections", n, base)
	}
}
