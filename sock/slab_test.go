package sock_test

import (
	"testing"

	"github.com/rawpoll/rawpoll/selector"
	"github.com/rawpoll/rawpoll/sock"
)

func TestSlab(t *testing.T) {
	var s sock.Slab[string]
	if s.Len() != 0 || s.Get(0) != nil || s.Get(1<<32) != nil || s.Remove(1<<32) {
		t.Fatal("zero Slab not empty")
	}
	a := s.Insert("a")
	b := s.Insert("b")
	if a>>32 == 0 || b>>32 == 0 {
		t.Fatalf("tokens %#x %#x below 1<<32", a, b)
	}
	if *s.Get(a) != "a" || *s.Get(b) != "b" || s.Len() != 2 {
		t.Fatal("Get")
	}
	if !s.Remove(a) || s.Remove(a) || s.Get(a) != nil || s.Len() != 1 {
		t.Fatal("Remove")
	}
	// The slot is reused with a new generation: the stale token finds
	// nothing, the new one finds the new value.
	c := s.Insert("c")
	if uint32(c) != uint32(a) {
		t.Fatalf("slot not reused: %#x after %#x", c, a)
	}
	if c == a || s.Get(a) != nil || *s.Get(c) != "c" {
		t.Fatalf("stale token %#x reaches the new entry %#x", a, c)
	}
	// Tokens of slots never allocated, and the caller's own small tokens.
	for _, tok := range []selector.Token{1, 1<<32 | 999999, 1<<63 | 5, selector.Token(1<<64 - 1)} {
		if s.Get(tok) != nil || s.Remove(tok) {
			t.Fatalf("token %#x found", tok)
		}
	}
	// Alloc builds in place; the value starts zero even in a reused slot.
	tok, p := s.Alloc()
	if *p != "" {
		t.Fatalf("Alloc'd value %q", *p)
	}
	*p = "d"
	if *s.Get(tok) != "d" {
		t.Fatal("Alloc pointer")
	}
	s.Remove(tok)
	tok2, p2 := s.Alloc()
	if *p2 != "" || tok2 == tok {
		t.Fatalf("reused slot not zeroed: %q", *p2)
	}
}

// TestSlabGrowth: thousands of entries over several pages; pointers stay
// valid as the table grows; All visits each live entry once; generations
// keep advancing across many reuses of one slot.
func TestSlabGrowth(t *testing.T) {
	var s sock.Slab[int]
	const n = 3000
	toks := make([]selector.Token, n)
	ptrs := make([]*int, n)
	for i := range toks {
		toks[i], ptrs[i] = s.Alloc()
		*ptrs[i] = i
	}
	for i := range toks {
		if s.Get(toks[i]) != ptrs[i] || *ptrs[i] != i {
			t.Fatalf("entry %d moved or changed", i)
		}
	}
	for i := 0; i < n; i += 2 {
		s.Remove(toks[i])
	}
	seen := 0
	for tok, v := range s.All() {
		if *v%2 != 1 || toks[*v] != tok {
			t.Fatalf("All yielded %d with token %#x", *v, tok)
		}
		seen++
	}
	if seen != n/2 || s.Len() != n/2 {
		t.Fatalf("All saw %d, Len %d, want %d", seen, s.Len(), n/2)
	}
	// Removing during All.
	for tok := range s.All() {
		s.Remove(tok)
	}
	if s.Len() != 0 {
		t.Fatalf("Len %d after removing everything", s.Len())
	}
	// One slot reused many times: every token distinct, only the last live.
	var one sock.Slab[int]
	prev := map[selector.Token]bool{}
	var last selector.Token
	for range 10000 {
		last = one.Insert(1)
		if prev[last] {
			t.Fatalf("token %#x issued twice", last)
		}
		prev[last] = true
		one.Remove(last)
	}
	for tok := range prev {
		if one.Get(tok) != nil {
			t.Fatalf("removed token %#x live", tok)
		}
	}
}
