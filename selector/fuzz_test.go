//go:build unix

package selector_test

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// FuzzOps is a model-based fuzz test: the fuzzer's bytes drive Register,
// Reregister, Deregister, writes, drains, Wake, Select(0), TryClone,
// close-and-reopen of the fds, and finally Close, over four slots holding
// pipes, socketpairs and eventfds, and a Waker, against a model of what is registered. After every step the
// selector's answers must agree with the model: the error each call
// returns, no event for an fd that is not registered now, no token that
// was never registered, ErrClosed exactly after Close; and at the end no
// descriptor has leaked.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 6, 5, 3, 0, 6})
	f.Add([]byte{0, 1, 2, 0, 1, 2, 2, 1, 2, 1, 4, 6})
	f.Add([]byte{1, 2, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{0, 0, 1, 7, 0, 0, 0, 0, 1, 3, 0, 0, 6, 0, 0, 8, 0, 0, 9, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 512 {
			ops = ops[:512] // bounded work per input
		}
		before := countFds(t)
		s, err := selector.New()
		if err != nil {
			t.Fatal(err)
		}
		exp := expectFor(t, s)
		const wakeTok = selector.Token(1 << 62)
		wk, err := selector.NewWaker(s, wakeTok)
		if err != nil {
			t.Fatal(err)
		}
		type reg struct {
			on  bool
			tok selector.Token
			in  selector.Interest
		}
		var r, w [4]int
		var model [4]reg
		// Slot i holds a pipe, a socketpair or an eventfd (i%3): the read
		// side is registered, the write side makes it ready.
		open := func(i int) {
			switch i % 3 {
			case 0:
				var p [2]int
				if err := unix.Pipe(p[:]); err != nil {
					t.Fatal(err)
				}
				r[i], w[i] = p[0], p[1]
			case 1:
				p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
				if err != nil {
					t.Fatal(err)
				}
				r[i], w[i] = p[0], p[1]
			case 2:
				if fd, ok := newEventfd(); ok {
					r[i], w[i] = fd, fd
					break
				}
				p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
				if err != nil {
					t.Fatal(err)
				}
				r[i], w[i] = p[0], p[1]
			}
			unix.SetNonblock(r[i], true)
			unix.SetNonblock(w[i], true)
		}
		closeSlot := func(i int) {
			unix.Close(r[i])
			if w[i] != r[i] {
				unix.Close(w[i])
			}
		}
		for i := range r {
			open(i)
		}
		ev := selector.NewEvents(8)
		closed := false
		next := func() byte {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return b
		}
		checkErr := func(what string, err, want error) {
			t.Helper()
			if closed {
				want = selector.ErrClosed
			}
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Fatalf("%s: error %v, want %v (model %+v, closed %v)", what, err, want, model, closed)
			}
		}
		for len(ops) > 0 {
			op, arg := next()%10, next()
			i := int(arg % 4)
			in := selector.Interest(next())
			tok := selector.Token(arg)<<8 | selector.Token(i)
			validIn := in != 0 && in&^(selector.Readable|selector.Writable|selector.Priority|selector.AIO|selector.LIO) == 0
			switch op {
			case 0, 1: // register / reregister
				var err error
				if op == 0 {
					err = s.Register(r[i], tok, in)
				} else {
					err = s.Reregister(r[i], tok, in)
				}
				var want error
				switch {
				case !validIn:
					want = selector.ErrInvalidInterest
				case in&selector.AIO != 0 && exp.aioErr != nil:
					want = exp.aioErr
				case in&selector.LIO != 0 && exp.lioErr != nil:
					want = exp.lioErr
				case in&selector.Priority != 0 && exp.priorityErr != nil:
					want = exp.priorityErr
				case op == 0 && model[i].on:
					want = exp.doubleRegister
				case op == 1 && !model[i].on:
					want = exp.reregisterUnregistered
				}
				checkErr("register/reregister", err, want)
				if err == nil {
					model[i] = reg{on: true, tok: tok, in: in}
				}
			case 2: // deregister
				var want error
				if !model[i].on {
					want = exp.deregisterUnregistered
				}
				checkErr("deregister", s.Deregister(r[i]), want)
				if !closed {
					model[i].on = false
				}
			case 3: // write (an eventfd takes 8 bytes)
				if r[i] == w[i] { // an eventfd
					unix.Write(w[i], []byte{arg | 1, 0, 0, 0, 0, 0, 0, 0})
				} else {
					unix.Write(w[i], []byte{arg})
				}
			case 4: // drain
				buf := make([]byte, 256)
				for range 64 {
					if n, err := unix.Read(r[i], buf); n <= 0 || err != nil {
						break
					}
				}
				s.WouldBlock(r[i], selector.Readable)
			case 5: // wake: ErrClosed once the Selector is closed (checkErr)
				checkErr("wake", wk.Wake(), nil)
			case 6, 8: // select, through the selector or a clone
				sel := s
				if op == 8 {
					c, err := s.TryClone()
					checkErr("TryClone", err, nil)
					if err != nil {
						continue
					}
					sel = c
				}
				err := sel.Select(ev, 0)
				if sel != s {
					sel.Close()
				}
				checkErr("select", err, nil)
				for e := range ev.All() {
					if e.Token() == wakeTok {
						continue
					}
					j := int(e.Token() & 0xff)
					if j >= 4 || !model[j].on || model[j].tok != e.Token() {
						t.Fatalf("event %v: token not registered now (model %+v)", e, model)
					}
					if e.IsReadable() && model[j].in&selector.Readable == 0 && !e.IsPriority() {
						t.Fatalf("readable event for fd %d registered %v", j, model[j].in)
					}
				}
			case 7: // deregister, close and reopen the pipe (a new fd, maybe the same number)
				if model[i].on {
					checkErr("deregister before close", s.Deregister(r[i]), nil)
				}
				closeSlot(i)
				open(i)
				if !closed {
					model[i].on = false
				}
			case 9: // close the selector: from here on every call is ErrClosed
				if arg%8 == 0 {
					if err := s.Close(); err != nil { // idempotent: nil the second time too
						t.Fatalf("Close: %v", err)
					}
					closed = true
				}
			}
		}
		wk.Close()
		s.Close()
		for i := range r {
			closeSlot(i)
		}
		if after := countFds(t); after != before {
			t.Fatalf("descriptors: %d before, %d after: a leak", before, after)
		}
	})
}
