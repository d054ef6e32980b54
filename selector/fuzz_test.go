//go:build unix

package selector_test

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rawpoll/rawpoll/selector"
)

// FuzzOps drives Register, Reregister, Deregister, writes, drains, Wake and
// Select(0) over four pipes and a Waker from the fuzzer's bytes, and checks
// every answer against a model of what is registered: the error each call
// must return, and that every event carries the token its fd holds now.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 6, 5, 3, 0, 6})
	f.Add([]byte{0, 1, 2, 0, 1, 2, 2, 1, 2, 1, 4, 6})
	f.Add([]byte{1, 2, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 512 {
			ops = ops[:512] // bounded work per input
		}
		s := newSelector(t)
		exp := expectFor(t, s)
		const wakeTok = selector.Token(1 << 62)
		wk, err := selector.NewWaker(s, wakeTok)
		if err != nil {
			t.Fatal(err)
		}
		defer wk.Close()
		type reg struct {
			on  bool
			tok selector.Token
			in  selector.Interest
		}
		var r, w [4]int
		var model [4]reg
		for i := range r {
			r[i], w[i] = pipe(t)
		}
		ev := selector.NewEvents(8)
		next := func() byte {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return b
		}
		for len(ops) > 0 {
			op, arg := next()%7, next()
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
				case in&(selector.AIO|selector.LIO) != 0 && exp.aioErr != nil:
					want = exp.aioErr
				case in&selector.Priority != 0 && exp.priorityErr != nil:
					want = exp.priorityErr
				case op == 0 && model[i].on:
					want = exp.doubleRegister
				case op == 1 && !model[i].on:
					want = exp.reregisterUnregistered
				}
				if want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Fatalf("op %d fd %d interest %v (model %+v): error %v, want %v", op, i, in, model[i], err, want)
				}
				if err == nil {
					model[i] = reg{on: true, tok: tok, in: in}
				}
			case 2: // deregister
				err := s.Deregister(r[i])
				want := error(nil)
				if !model[i].on {
					want = exp.deregisterUnregistered
				}
				if want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Fatalf("deregister fd %d (model %+v): %v, want %v", i, model[i], err, want)
				}
				model[i].on = false
			case 3: // write
				unix.Write(w[i], []byte{arg})
			case 4: // drain
				buf := make([]byte, 256)
				for range 64 {
					if n, err := unix.Read(r[i], buf); n <= 0 || err != nil {
						break
					}
				}
				s.WouldBlock(r[i])
			case 5:
				if err := wk.Wake(); err != nil {
					t.Fatal(err)
				}
			case 6: // select
				if err := s.Select(ev, 0); err != nil {
					t.Fatal(err)
				}
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
			}
		}
	})
}
