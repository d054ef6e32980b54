//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

// sockPath returns a socket path in a fresh temporary directory, short
// enough for sun_path.
func sockPath(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, name)
}

func unixNames(t *testing.T) []string {
	names := []string{sockPath(t, "s")}
	if runtime.GOOS == "linux" {
		names = append(names, fmt.Sprintf("@rawpoll-sock-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	}
	return names
}

func TestUnixStream(t *testing.T) {
	for _, name := range unixNames(t) {
		t.Run(map[bool]string{true: "abstract", false: "path"}[name[0] == '@'], func(t *testing.T) {
			s := newSelector(t)
			l, err := sock.ListenUnix(name, sock.Backlog(8))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if got := l.UnixAddr().String(); got != name {
				t.Fatalf("listener name %q, want %q", got, name)
			}
			if l.Addr().IsValid() {
				t.Fatalf("a Unix listener has an IP address %v", l.Addr())
			}
			c, err := sock.DialUnix(name)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			server := acceptOne(t, s, l)
			if server.PeerAddr().IsValid() || c.PeerUnixAddr().String() != name || !c.LocalUnixAddr().IsUnnamed() {
				t.Fatalf("names: server peer %v, client peer %q, client local %q", server.PeerAddr(), c.PeerUnixAddr(), c.LocalUnixAddr())
			}
			if server.LocalUnixAddr().String() != name {
				t.Fatalf("server local name %q", server.LocalUnixAddr())
			}
			if err := s.Register(server.Fd(), 9, selector.Readable); err != nil {
				t.Fatal(err)
			}
			c.Writev([][]byte{[]byte("over "), []byte("unix")})
			c.Shutdown(sock.ShutWrite)
			waitEvent(t, s, 9, readable)
			buf := make([]byte, 32)
			n, err := server.Read(buf)
			if string(buf[:n]) != "over unix" || err != nil {
				t.Fatalf("Read = %q, %v", buf[:n], err)
			}
			if _, err := server.Read(buf); err != io.EOF {
				t.Fatalf("Read after the peer's ShutWrite: %v", err)
			}
			if err := c.SetNoDelay(true); err == nil {
				t.Fatal("TCP_NODELAY accepted on a Unix socket")
			}
			// The name is in use while the listener lives.
			if _, err := sock.ListenUnix(name); !errors.Is(err, syscall.EADDRINUSE) {
				t.Fatalf("second ListenUnix: %v", err)
			}
		})
	}
}

func TestUnixBadInput(t *testing.T) {
	long := "/tmp/" + strings.Repeat("x", 120)
	if _, err := sock.ListenUnix(long); !errors.Is(err, sock.ErrUnixPath) {
		t.Fatalf("ListenUnix(too long): %v", err)
	}
	if _, err := sock.DialUnix("/tmp/a\x00b"); !errors.Is(err, sock.ErrUnixPath) {
		t.Fatalf("DialUnix(NUL): %v", err)
	}
	if _, err := sock.UnixAddrOf(long); err != sock.ErrUnixPath {
		t.Fatalf("UnixAddrOf(too long): %v", err)
	}
	missing := sockPath(t, "missing")
	if _, err := sock.DialUnix(missing); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("DialUnix(no such path): %v", err)
	}
	if _, err := sock.DialUnixgram(missing); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("DialUnixgram(no such path): %v", err)
	}
	// A socket file with nobody listening: refused.
	p := sockPath(t, "dead")
	l, err := sock.ListenUnix(p)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Close removed the socket file: %v", err)
	}
	if _, err := sock.DialUnix(p); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("DialUnix(closed listener): %v", err)
	}
}

func TestPair(t *testing.T) {
	a, b, err := sock.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	s := newSelector(t)
	if err := s.Register(b.Fd(), 1, selector.Readable); err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("pair"))
	waitEvent(t, s, 1, readable)
	buf := make([]byte, 8)
	if n, err := b.Read(buf); string(buf[:n]) != "pair" || err != nil {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if !a.LocalUnixAddr().IsUnnamed() || a.PeerAddr().IsValid() {
		t.Fatal("a socketpair has names")
	}
	// Close: the peer sees read-closed and EOF.
	s.WouldBlock(b.Fd(), selector.Readable)
	a.Close()
	f := waitEvent(t, s, 1, func(e *selector.Event) bool { return e.IsReadClosed() })
	if !f.readClosed {
		t.Fatal(f.str)
	}
	if _, err := b.Read(buf); err != io.EOF {
		t.Fatalf("Read after the peer closed: %v", err)
	}
}

func TestUnixgram(t *testing.T) {
	for _, name := range unixNames(t) {
		t.Run(map[bool]string{true: "abstract", false: "path"}[name[0] == '@'], func(t *testing.T) {
			s := newSelector(t)
			srv, err := sock.ListenUnixgram(name)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if srv.LocalAddr().String() != name {
				t.Fatalf("LocalAddr %q", srv.LocalAddr())
			}
			// A bound client, so the server can reply.
			cname := name + "-client"
			cl, err := sock.ListenUnixgram(cname)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			to, err := sock.UnixAddrOf(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Register(srv.Fd(), 1, selector.Readable); err != nil {
				t.Fatal(err)
			}
			if err := s.Register(cl.Fd(), 2, selector.Readable); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 32)
			if _, _, err := srv.ReadFrom(buf); err != syscall.EAGAIN {
				t.Fatalf("ReadFrom on an empty socket: %v", err)
			}
			s.WouldBlock(srv.Fd(), selector.Readable)
			if n, err := cl.WriteTo([]byte("question"), to); n != 8 || err != nil {
				t.Fatalf("WriteTo = %d, %v", n, err)
			}
			waitEvent(t, s, 1, readable)
			n, from, err := srv.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "question" || from.String() != cname {
				t.Fatalf("ReadFrom = %q from %q, %v", buf[:n], from, err)
			}
			if _, err := srv.WriteTo([]byte("answer"), from); err != nil {
				t.Fatal(err)
			}
			waitEvent(t, s, 2, readable)
			if n, err := cl.Read(buf); string(buf[:n]) != "answer" || err != nil {
				t.Fatalf("Read = %q, %v", buf[:n], err)
			}
			if _, err := srv.WriteTo([]byte("x"), sock.UnixAddr{}); err != syscall.EDESTADDRREQ {
				t.Fatalf("WriteTo the unnamed address: %v", err)
			}
			// Connected and unbound: the server sees an unnamed sender.
			d, err := sock.DialUnixgram(name)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.Write([]byte("anon"))
			s.WouldBlock(srv.Fd(), selector.Readable)
			waitEvent(t, s, 1, readable)
			n, from, err = srv.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "anon" || !from.IsUnnamed() {
				t.Fatalf("from an unbound socket: %q from %q, %v", buf[:n], from, err)
			}
		})
	}
}

func TestPairDatagram(t *testing.T) {
	a, b, err := sock.PairDatagram()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	for _, msg := range []string{"one", "", "three"} {
		if n, err := a.Write([]byte(msg)); n != len(msg) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", msg, n, err)
		}
	}
	buf := make([]byte, 8)
	for _, msg := range []string{"one", "", "three"} {
		n, err := b.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("Read = %q, %v; want %q (datagram boundaries kept)", buf[:n], err, msg)
		}
	}
	if _, err := b.Read(buf); err != syscall.EAGAIN {
		t.Fatalf("Read of a drained socket: %v", err)
	}
	b.Close()
	if _, err := a.Write([]byte("x")); err == nil {
		t.Fatal("Write to a closed datagram peer succeeded")
	}
	if _, err := b.Read(buf); err != sock.ErrClosed {
		t.Fatalf("Read after Close: %v", err)
	}
}
