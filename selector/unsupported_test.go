//go:build !(linux && (amd64 || arm64)) && !(darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64)))

package selector

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
)

// TestMain runs TestUnsupportedPlatform alone where there is no backend:
// every other test of the package needs one, and would fail on New's
// ErrUnsupportedPlatform. Said loudly, so that nobody reads the pass as
// the suite's.
func TestMain(m *testing.M) {
	flag.Parse()
	fmt.Fprintf(os.Stderr, "SKIP: selector has no backend on %s/%s: only TestUnsupportedPlatform runs (-run ignored)\n", runtime.GOOS, runtime.GOARCH)
	flag.Set("test.run", "^TestUnsupportedPlatform$")
	flag.Set("test.bench", "")
	flag.Set("test.fuzz", "")
	os.Exit(m.Run())
}

// TestUnsupportedPlatform: where no backend is built (the 32-bit BSDs,
// Linux on 386, arm, riscv64...) the package builds, New says so with
// ErrUnsupportedPlatform (an errors.ErrUnsupported), and every method of
// the Selector it returns, and of a nil one, answers as a closed Selector
// does. make test runs it as linux/386 under qemu-i386.
func TestUnsupportedPlatform(t *testing.T) {
	s, err := New()
	if !errors.Is(err, ErrUnsupportedPlatform) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("New: %v, want ErrUnsupportedPlatform", err)
	}
	for _, s := range []*Selector{s, nil} {
		if s.Backend() != "none" || s.Fd() != -1 {
			t.Errorf("Backend %q, Fd %d; want none, -1", s.Backend(), s.Fd())
		}
		ev := NewEvents(4)
		for name, err := range map[string]error{
			"Register":   s.Register(0, 1, Readable),
			"Reregister": s.Reregister(0, 1, Readable),
			"Deregister": s.Deregister(0),
			"Select":     s.Select(ev, 0),
			"WouldBlock": s.WouldBlock(0, Readable),
		} {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s: %v, want ErrClosed", name, err)
			}
		}
		if _, err := s.TryClone(); err == nil {
			t.Error("TryClone succeeded")
		}
		if _, err := NewWaker(s, 1); err == nil {
			t.Error("NewWaker succeeded")
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}
