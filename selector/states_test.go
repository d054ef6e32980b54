//go:build unix

package selector_test

// Every method against every state another goroutine can put a Selector
// in: a Select blocked on it or on a clone, a closed clone, a closed
// original under a live clone, a closed Waker, a descriptor number reused
// since its deregistration, and Close (done, or with a Select in flight).
// Each method must answer as the state says (nil while open, ErrClosed
// after Close), return in bounded time, and leave the Selector working;
// Close must then release every Select blocked on this Selector and no
// other.

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// stateEnv is a Selector in some state, with the goroutines the state
// runs.
type stateEnv struct {
	s      *selector.Selector
	open   bool                 // methods on s must succeed
	seen   chan selector.Token  // tokens the state's own Selects saw
	onS    []chan error         // Selects blocked on s: released by s.Close
	others []chan error         // Selects blocked elsewhere: must outlive s.Close
	extra  []*selector.Selector // clones to close at the end
}

// blockedSelect runs Selects on sel until one fails, forwarding the tokens
// it sees, and reports the error that ended it.
func (e *stateEnv) blockedSelect(sel *selector.Selector) chan error {
	done := make(chan error, 1)
	go func() {
		ev := selector.NewEvents(8)
		for {
			if err := sel.Select(ev, -1); err != nil {
				done <- err
				return
			}
			for x := range ev.All() {
				select {
				case e.seen <- x.Token():
				default:
				}
			}
		}
	}()
	time.Sleep(10 * time.Millisecond) // in the kernel, usually
	return done
}

var selectorStates = []struct {
	name  string
	setup func(t *testing.T, e *stateEnv)
}{
	{"idle", func(t *testing.T, e *stateEnv) {}},
	{"select-blocked", func(t *testing.T, e *stateEnv) {
		e.onS = append(e.onS, e.blockedSelect(e.s), e.blockedSelect(e.s))
	}},
	{"select-blocked-on-clone", func(t *testing.T, e *stateEnv) {
		c, err := e.s.TryClone()
		if err != nil {
			t.Fatal(err)
		}
		e.extra = append(e.extra, c)
		e.others = append(e.others, e.blockedSelect(c))
	}},
	{"clone-closed", func(t *testing.T, e *stateEnv) {
		c, err := e.s.TryClone()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}},
	{"original-closed", func(t *testing.T, e *stateEnv) {
		c, err := e.s.TryClone()
		if err != nil {
			t.Fatal(err)
		}
		e.s.Close()
		e.s = c // the clone carries on alone
	}},
	{"waker-closed", func(t *testing.T, e *stateEnv) {
		w, err := selector.NewWaker(e.s, 1<<60)
		if err != nil {
			t.Fatal(err)
		}
		w.Wake()
		w.Close()
	}},
	{"waker-of-closed-clone", func(t *testing.T, e *stateEnv) {
		c, err := e.s.TryClone()
		if err != nil {
			t.Fatal(err)
		}
		w, err := selector.NewWaker(c, 1<<60)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if err := w.Wake(); !errors.Is(err, selector.ErrClosed) {
			t.Fatalf("Wake after its Selector's Close: %v", err)
		}
		w.Close()
	}},
	{"fd-reused", func(t *testing.T, e *stateEnv) {
		// A number registered, deregistered and closed: the pipes the
		// methods make below reuse it.
		var p [2]int
		if err := unix.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Register(p[0], 1<<61, selector.Readable); err != nil {
			t.Fatal(err)
		}
		unix.Write(p[1], []byte("x"))
		if err := e.s.Deregister(p[0]); err != nil {
			t.Fatal(err)
		}
		unix.Close(p[0])
		unix.Close(p[1])
	}},
	{"closed", func(t *testing.T, e *stateEnv) {
		e.s.Close()
		e.open = false
	}},
	{"closed-with-select-in-flight", func(t *testing.T, e *stateEnv) {
		done := e.blockedSelect(e.s)
		e.s.Close()
		select {
		case err := <-done:
			if !errors.Is(err, selector.ErrClosed) {
				t.Fatalf("Select in flight at Close: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not release the Select in flight")
		}
		e.open = false
	}},
}

// selectorMethods are the calls made in every state; each returns the
// error the state decides.
var selectorMethods = []struct {
	name string
	call func(t *testing.T, e *stateEnv) error
}{
	{"Register+Reregister+WouldBlock+Deregister", func(t *testing.T, e *stateEnv) error {
		r, _ := pipe(t)
		if err := e.s.Register(r, 7, selector.Readable); err != nil {
			return err
		}
		if err := e.s.Reregister(r, 8, selector.Readable|selector.Writable); err != nil {
			return err
		}
		if err := e.s.WouldBlock(r, selector.Readable); err != nil {
			return err
		}
		return e.s.Deregister(r)
	}},
	{"Select(0)", func(t *testing.T, e *stateEnv) error { return e.s.Select(selector.NewEvents(4), 0) }},
	{"Select(10ms)", func(t *testing.T, e *stateEnv) error {
		return e.s.Select(selector.NewEvents(4), 10*time.Millisecond)
	}},
	{"TryClone", func(t *testing.T, e *stateEnv) error {
		c, err := e.s.TryClone()
		if err != nil {
			return err
		}
		return c.Close()
	}},
	{"NewWaker+Wake+Close", func(t *testing.T, e *stateEnv) error {
		w, err := selector.NewWaker(e.s, 1<<59)
		if err != nil {
			return err
		}
		if err := w.Wake(); err != nil {
			return err
		}
		return w.Close()
	}},
}

func TestMethodsAgainstStates(t *testing.T) {
	for _, st := range selectorStates {
		t.Run(st.name, func(t *testing.T) {
			s, err := selector.New()
			if err != nil {
				t.Fatal(err)
			}
			e := &stateEnv{s: s, open: true, seen: make(chan selector.Token, 64)}
			st.setup(t, e)
			defer func() {
				for _, c := range e.extra {
					c.Close()
				}
			}()
			for _, m := range selectorMethods {
				within(t, 10*time.Second, st.name+": "+m.name, func() error {
					err := m.call(t, e)
					if e.open && err != nil {
						return err
					}
					if !e.open && !errors.Is(err, selector.ErrClosed) {
						return errorf("got %v, want ErrClosed", err)
					}
					return nil
				})
			}
			if e.open {
				// Still working: an event is seen, by this goroutine or by
				// the state's own Selects.
				r, w := pipe(t)
				register(t, e.s, r, 99, selector.Readable)
				write(t, w, []byte("x"))
				ev := selector.NewEvents(8)
				got := false
				for deadline := time.Now().Add(3 * time.Second); !got && time.Now().Before(deadline); {
					select {
					case tok := <-e.seen:
						got = tok == 99
						continue
					default:
					}
					if err := e.s.Select(ev, 10*time.Millisecond); err != nil {
						t.Fatal(err)
					}
					for x := range ev.All() {
						got = got || x.Token() == 99
					}
				}
				if !got {
					t.Fatal("no event for a new registration")
				}
			}
			if err := e.s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			for i, done := range e.onS {
				select {
				case err := <-done:
					if !errors.Is(err, selector.ErrClosed) {
						t.Fatalf("Select %d blocked on the Selector: %v after Close", i, err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("Select %d blocked on the Selector outlived its Close", i)
				}
			}
			for i, done := range e.others {
				select {
				case err := <-done:
					t.Fatalf("Select %d blocked on a clone returned at the original's Close: %v", i, err)
				case <-time.After(20 * time.Millisecond):
				}
			}
			for _, c := range e.extra {
				c.Close()
			}
			for i, done := range e.others {
				select {
				case err := <-done:
					if !errors.Is(err, selector.ErrClosed) {
						t.Fatalf("Select %d on a clone: %v after the clone's Close", i, err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("Select %d blocked on a clone outlived the clone's Close", i)
				}
			}
		})
	}
}
