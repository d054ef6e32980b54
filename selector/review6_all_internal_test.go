package selector

import "testing"

// TestReview6AllWalk checks Events.All's pointer walk on every length from 0
// to the capacity, on capacities 1..9: each record once, in order, as the
// same address At gives, and never one past Len.
func TestReview6AllWalk(t *testing.T) {
	for c := 1; c <= 9; c++ {
		for n := 0; n <= c; n++ {
			e := &Events{buf: make([]sysEvent, c), n: n}
			i := 0
			for p := range e.All() {
				if i >= n {
					t.Fatalf("cap %d len %d: yielded record %d", c, n, i)
				}
				if p != (*Event)(&e.buf[i]) || p != e.At(i) {
					t.Fatalf("cap %d len %d: record %d is not buf[%d]", c, n, i, i)
				}
				i++
			}
			if i != n {
				t.Fatalf("cap %d len %d: %d records", c, n, i)
			}
		}
	}
}

// TestReview6AllStops checks the iterator protocol by hand (no range-func
// checks in between): after yield returns false it is never called again.
func TestReview6AllStops(t *testing.T) {
	for n := 1; n <= 6; n++ {
		for stop := 0; stop < n; stop++ {
			e := &Events{buf: make([]sysEvent, n), n: n}
			calls, after := 0, 0
			stopped := false
			e.All()(func(*Event) bool {
				if stopped {
					after++
				}
				calls++
				if calls-1 == stop {
					stopped = true
					return false
				}
				return true
			})
			if after != 0 || calls != stop+1 {
				t.Fatalf("len %d stop at %d: %d calls, %d after false", n, stop, calls, after)
			}
		}
	}
}

// TestReview6AllZero: nil, zero and zero-capacity Events yield nothing.
func TestReview6AllZero(t *testing.T) {
	for _, e := range []*Events{nil, {}, NewEvents(0), NewEvents(-1), {buf: []sysEvent{}}} {
		for range e.All() {
			t.Fatal("yielded from an empty Events")
		}
	}
}

// TestReview6AllClearInside: a Clear (Len 0) or a shrink inside the loop
// does not shorten the walk already under way (the view is taken at
// start, as the index loop did), and it never reads past the buffer.
func TestReview6AllClearInside(t *testing.T) {
	e := &Events{buf: make([]sysEvent, 4), n: 4}
	i := 0
	for range e.All() {
		e.Clear()
		i++
		if i > 4 {
			t.Fatal("walked past the buffer")
		}
	}
	if i != 4 {
		t.Fatalf("%d records", i)
	}
	// Growing n inside the loop: the walk stays on the start's view.
	e.n = 1
	i = 0
	for range e.All() {
		e.n = 4
		i++
		if i > 4 {
			t.Fatal("walked past the buffer")
		}
	}
	if i != 1 {
		t.Fatalf("grown inside: %d records, want 1", i)
	}
}
