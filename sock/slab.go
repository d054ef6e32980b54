package sock

import (
	"iter"

	"github.com/rawpoll/rawpoll/selector"
)

// Slab is a table from selector.Token to per-connection state, for an
// event loop: Insert (or Alloc) stores a value and returns its token,
// which goes to Register; Get maps an event's token back to the value;
// Remove frees the slot for reuse.
//
// Every token carries its slot's generation, which Remove advances, so a
// token of a removed entry never finds the entry that reuses its slot: an
// event still queued for a closed connection (already in an Events buffer,
// or reported by the kernel before Deregister took effect) is not
// delivered to the new connection that got the closed one's slot. This is
// the stale-event problem the Go runtime solved in its own poller with
// generation-tagged pointers (go.dev/issue/59545).
//
// A token is the slot index in the low 32 bits and the generation, which
// starts at 1 and skips 0 when it wraps, in the high 32 bits: tokens
// below 1<<32 are never issued, so they are free for the loop's own
// descriptors (listeners, wakers). A generation wraps after 2^32-1 reuses
// of one slot; a token that old would match again.
//
// Values live in fixed pages that never move, so a pointer from Get or
// Alloc stays valid until that entry is removed; the table grows a page
// (256 entries) at a time and allocates nothing in steady state. The zero
// Slab is empty and ready to use. A Slab is not safe for concurrent use:
// it belongs to one event loop.
type Slab[T any] struct {
	pages [][]slabEntry[T]
	free  uint32 // head of the free list, index+1 (0: empty)
	n     int
}

type slabEntry[T any] struct {
	val  T
	gen  uint32 // 0 while free, else the generation of the live entry
	last uint32 // the generation of the last entry in this slot
	next uint32 // free list link, index+1
}

const (
	slabPageBits = 8
	slabPageSize = 1 << slabPageBits
	// slabMaxLen bounds the index to 31 bits, so an index+1 link fits.
	slabMaxLen = 1 << 31
)

func (s *Slab[T]) entry(i uint32) *slabEntry[T] {
	return &s.pages[i>>slabPageBits][i&(slabPageSize-1)]
}

// Alloc takes a free slot (growing the table if none is free) and returns
// its token and a pointer to its value, which is the zero value. Use it to
// build the state in place (Accept into a Conn field, say) instead of
// copying it in with Insert. It panics if the table already holds 2^31
// entries.
func (s *Slab[T]) Alloc() (selector.Token, *T) {
	var i uint32
	if s.free != 0 {
		i = s.free - 1
		s.free = s.entry(i).next
	} else {
		total := len(s.pages) * slabPageSize
		if total >= slabMaxLen {
			panic("sock: Slab full")
		}
		s.pages = append(s.pages, make([]slabEntry[T], slabPageSize))
		// Chain the new page's slots after the first, which is taken now.
		base := uint32(total)
		page := s.pages[len(s.pages)-1]
		for j := 1; j < slabPageSize-1; j++ {
			page[j].next = base + uint32(j) + 2
		}
		page[slabPageSize-1].next = 0
		s.free = base + 2
		i = base
	}
	e := s.entry(i)
	e.gen = e.last + 1
	if e.gen == 0 {
		e.gen = 1
	}
	e.last = e.gen
	e.next = 0
	s.n++
	return selector.Token(uint64(e.gen)<<32 | uint64(i)), &e.val
}

// Insert stores v in a free slot and returns its token.
func (s *Slab[T]) Insert(v T) selector.Token {
	t, p := s.Alloc()
	*p = v
	return t
}

// lookup returns the live entry t names, or nil.
func (s *Slab[T]) lookup(t selector.Token) *slabEntry[T] {
	i, gen := uint32(t), uint32(t>>32)
	if gen == 0 || int(i>>slabPageBits) >= len(s.pages) {
		return nil
	}
	if e := s.entry(i); e.gen == gen {
		return e
	}
	return nil
}

// Get returns the value of the entry t names, or nil when t is not a live
// token: removed (a stale event), never issued, or one of the caller's own
// tokens below 1<<32.
func (s *Slab[T]) Get(t selector.Token) *T {
	if e := s.lookup(t); e != nil {
		return &e.val
	}
	return nil
}

// Remove frees the entry t names, zeroing its value (so the table keeps
// nothing alive), and reports whether t was live. Every token of the
// entry is stale from now on.
func (s *Slab[T]) Remove(t selector.Token) bool {
	e := s.lookup(t)
	if e == nil {
		return false
	}
	var zero T
	e.val = zero
	e.gen = 0
	e.next = s.free
	s.free = uint32(t) + 1
	s.n--
	return true
}

// Len returns the number of live entries.
func (s *Slab[T]) Len() int { return s.n }

// All iterates over the live entries with their tokens, in slot order.
// Removing the entry being visited is allowed.
func (s *Slab[T]) All() iter.Seq2[selector.Token, *T] {
	return func(yield func(selector.Token, *T) bool) {
		for p, page := range s.pages {
			for j := range page {
				e := &page[j]
				if e.gen == 0 {
					continue
				}
				t := selector.Token(uint64(e.gen)<<32 | uint64(p<<slabPageBits|j))
				if !yield(t, &e.val) {
					return
				}
			}
		}
	}
}
