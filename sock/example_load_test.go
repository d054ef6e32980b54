//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

// TestEchoExampleUnderLoad drives the package example's loop with clients
// that write 1 MiB each in random pieces while reading the echo slowly, so
// that the server's writes come back partial and wait for Writable events,
// and some that half-close at once: every byte must come back, in order,
// on both backends.
func TestEchoExampleUnderLoad(t *testing.T) {
	ln, wake, done := startEchoExample(t)
	const clients, size = 6, 1 << 20
	errs := make(chan error, clients)
	for i := range clients {
		go func() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			r := rand.New(rand.NewPCG(uint64(i), 1))
			msg := make([]byte, size)
			for j := range msg {
				msg[j] = byte(r.Uint32())
			}
			go func() {
				for off := 0; off < size; {
					n := min(1+r.IntN(64<<10), size-off)
					if _, err := c.Write(msg[off : off+n]); err != nil {
						return
					}
					off += n
				}
				c.(*net.TCPConn).CloseWrite() // the hang-up comes after the data
			}()
			back := make([]byte, 0, size)
			buf := make([]byte, 8<<10)
			for len(back) < size {
				n, err := c.Read(buf)
				back = append(back, buf[:n]...)
				if err != nil {
					break
				}
				if len(back)%(256<<10) < n {
					time.Sleep(5 * time.Millisecond) // let the server's send buffer fill
				}
			}
			if !bytes.Equal(back, msg) {
				errs <- io.ErrUnexpectedEOF
				return
			}
			if _, err := c.Read(buf); err != io.EOF {
				errs <- err
				return
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	wake.Wake()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// startEchoExample runs the package example's loop on a new listener, as
// Example sets it up; the caller stops it with wake.Wake and reads its
// result from done. The listener and the Waker are closed at cleanup.
func startEchoExample(t *testing.T) (*sock.Listener, *selector.Waker, chan error) {
	t.Helper()
	ln, err := sock.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	sel := newSelector(t)
	wake, err := selector.NewWaker(sel, wakeTok)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wake.Close() })
	if err := sel.Register(ln.Fd(), lnTok, selector.Readable); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- echoLoop(sel, ln) }()
	return ln, wake, done
}
