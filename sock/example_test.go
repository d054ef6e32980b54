//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

// The echo server of the package example: one event loop on selector and
// sock, following every rule of the package doc.

type echoConn struct {
	conn sock.Conn
	buf  [4096]byte
	out  []byte // echo not yet written: a partial write's rest
}

const lnTok, wakeTok = 0, 1 // below 1<<32: never a Slab token

func echoLoop(sel *selector.Selector, ln *sock.Listener) error {
	var conns sock.Slab[echoConn]
	events := selector.NewEvents(256)
	for {
		if err := sel.Select(events, -1); err != nil {
			return err
		}
		for ev := range events.All() {
			switch tok := ev.Token(); tok {
			case wakeTok: // stop
				for tok, c := range conns.All() {
					closeConn(sel, &conns, tok, c)
				}
				return nil
			case lnTok:
				acceptAll(sel, ln, &conns)
			default: // c is nil for an event of a connection already closed
				if c := conns.Get(tok); c != nil && serve(sel, c) != nil {
					closeConn(sel, &conns, tok, c)
				}
			}
		}
	}
}

func acceptAll(sel *selector.Selector, ln *sock.Listener, conns *sock.Slab[echoConn]) {
	for {
		tok, c := conns.Alloc()
		if _, err := ln.Accept(&c.conn); err != nil {
			conns.Remove(tok)
			if err == syscall.EAGAIN { // drained: re-arm (on EMFILE a real server backs off)
				sel.WouldBlock(ln.Fd(), selector.Readable)
			}
			return
		}
		if sel.Register(c.conn.Fd(), tok, selector.Readable|selector.Writable) != nil {
			closeConn(sel, conns, tok, c)
		}
	}
}

// serve finishes a pending echo, then reads and echoes until a read
// returns EAGAIN. An error (io.EOF included) means: close. Reading always
// goes on to EAGAIN or EOF, even after a short read, so a hang-up is found
// by the read that reaches it, however the events reported it.
func serve(sel *selector.Selector, c *echoConn) error {
	for {
		if len(c.out) > 0 { // a partial write waits for the Writable event
			n, err := c.conn.Write(c.out)
			if c.out = c.out[n:]; err == syscall.EAGAIN || err == nil && len(c.out) > 0 {
				return sel.WouldBlock(c.conn.Fd(), selector.Writable)
			} else if err != nil {
				return err
			}
		}
		n, err := c.conn.Read(c.buf[:])
		if err == syscall.EAGAIN {
			return sel.WouldBlock(c.conn.Fd(), selector.Readable)
		} else if err != nil {
			return err
		}
		c.out = c.buf[:n]
	}
}

func closeConn(sel *selector.Selector, conns *sock.Slab[echoConn], tok selector.Token, c *echoConn) {
	sel.Deregister(c.conn.Fd())
	c.conn.Close()
	conns.Remove(tok)
}

// An echo server in about sixty lines: echoLoop, acceptAll, serve and
// closeConn above, on one selector with sock's Listener, Conn and
// Slab. It drains reads to EAGAIN (or EOF), re-arms each direction
// with WouldBlock, queues what a partial write left and finishes it on the
// Writable event, and deregisters and closes a connection on any error,
// EOF included. A Waker stops it. Reading to EAGAIN has a price a real
// server pays attention to: a client that keeps its receive queue full
// holds the loop for as long as it does, so such a server caps the reads
// per event and keeps a list of connections to come back to (with a
// zero-timeout Select) before it blocks again.
func Example() {
	ln, err := sock.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	sel, err := selector.New()
	if err != nil {
		log.Fatal(err)
	}
	defer sel.Close()
	wake, err := selector.NewWaker(sel, wakeTok)
	if err != nil {
		log.Fatal(err)
	}
	defer wake.Close()
	if err := sel.Register(ln.Fd(), lnTok, selector.Readable); err != nil {
		log.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- echoLoop(sel, ln) }()

	// A client from package net.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := "hello, rawpoll"
	c.Write([]byte(msg))
	back := make([]byte, len(msg))
	if _, err := io.ReadFull(c, back); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", back)
	wake.Wake()
	fmt.Println("loop:", <-done)
	// Output:
	// hello, rawpoll
	// loop: <nil>
}

// A listener made by package net (or handed over by a library, or by
// socket activation) moves to an event loop: FromNetListener duplicates
// its descriptor (F_DUPFD_CLOEXEC, non-blocking kept) and closes the
// original, so Go's poller lets go of it.
func ExampleFromNetListener() {
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ln, err := sock.FromNetListener(nl) // nl is closed now
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	sel, err := selector.New()
	if err != nil {
		log.Fatal(err)
	}
	defer sel.Close()
	sel.Register(ln.Fd(), lnTok, selector.Readable)
	events := selector.NewEvents(8)
	var c sock.Conn
	for {
		if _, err := ln.Accept(&c); err == nil {
			break
		} else if err != syscall.EAGAIN {
			log.Fatal(err)
		}
		sel.WouldBlock(ln.Fd(), selector.Readable)
		sel.Select(events, 5*time.Second)
	}
	defer c.Close()
	sel.Register(c.Fd(), 2, selector.Readable)
	buf := make([]byte, 8)
	var got []byte
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err == syscall.EAGAIN {
			sel.WouldBlock(c.Fd(), selector.Readable)
			sel.Select(events, 5*time.Second)
			continue
		}
		if err != nil { // io.EOF: the client closed
			break
		}
	}
	fmt.Printf("read %q\n", got)
	// Output: read "hi"
}

// A connection accepted by an event loop is handed to crypto/tls, which
// needs a net.Conn with blocking reads, in a goroutine of its own:
// NetConn moves it to Go's own poller. Deregister it first.
func ExampleConn_NetConn() {
	cert := selfSigned()
	ln, err := sock.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() { // a TLS client
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
		tc.Write([]byte("secret"))
		io.Copy(io.Discard, tc) // until the server closes
		tc.Close()
	}()
	var c sock.Conn
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := ln.Accept(&c); err == nil || time.Now().After(deadline) {
			break
		}
	}
	nc, err := c.NetConn() // c is closed now; nc belongs to Go's poller
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan string)
	go func() {
		tc := tls.Server(nc, &tls.Config{Certificates: []tls.Certificate{cert}})
		defer tc.Close()
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 6)
		if _, err := io.ReadFull(tc, buf); err != nil {
			done <- err.Error()
			return
		}
		done <- fmt.Sprintf("%s over %s", buf, tls.VersionName(tc.ConnectionState().Version))
	}()
	fmt.Println(<-done)
	// Output: secret over TLS 1.3
}

// selfSigned makes a throwaway certificate for the example.
func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
