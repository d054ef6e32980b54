//go:build linux && (amd64 || arm64)

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// TestReview2RingBurstThenFIN: a peer that sends a little more than the
// ring-mode high-water mark in one burst and shuts down writing at once
// must get all of it back, then EOF (TestEchoHalfCloseAfterData, with a
// burst). On io_uring the whole burst and the end of file can be reaped
// by one Select: the Recv has ended (its last completion is among them,
// so the selector has forgotten it) when complete, going through the
// chunks in order, crosses highWater and calls StopRecvRing, which fails
// with ENOENT; the loop takes that for a dead connection and closes it
// with the rest unsent. Readiness backends do not stop receiving: the
// test passes there.
func TestReview2RingBurstThenFIN(t *testing.T) {
	srv := startServer(t, Config{Addr: [4]byte{127, 0, 0, 1}, Loops: 1})
	msg := make([]byte, highWater+highWater/4)
	for i := range msg {
		msg[i] = byte(i*7 + i>>9)
	}
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 100 && time.Now().Before(deadline); i++ {
		c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", srv.Port()), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		tc := c.(*net.TCPConn)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		werr := make(chan error, 1)
		go func() {
			_, err := tc.Write(msg)
			if err == nil {
				err = tc.CloseWrite()
			}
			werr <- err
		}()
		got, err := io.ReadAll(tc)
		tc.Close()
		if e := <-werr; e != nil {
			t.Fatalf("connection %d (%s): write: %v", i, srv.Backend(), e)
		}
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("connection %d (%s): echoed %d of %d bytes before EOF (%v)", i, srv.Backend(), len(got), len(msg), err)
		}
	}
}
