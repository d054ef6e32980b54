//go:build unix && !(linux && (amd64 || arm64) && rawpoll_forcepoll)

package selector

import (
	"testing"

	"golang.org/x/sys/unix"
)

// pipeRef returns an fdRef holding the read end of a new pipe, and a check
// of whether that descriptor is still open (still that pipe: the number
// may be reused once closed).
func pipeRef(t *testing.T) (*fdRef, func() bool) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[1])
	var st unix.Stat_t
	if err := unix.Fstat(p[0], &st); err != nil {
		t.Fatal(err)
	}
	r := &fdRef{}
	r.init(p[0])
	t.Cleanup(func() { r.close() }) // closes nothing twice: destroy runs once
	return r, func() bool {
		var now unix.Stat_t
		return unix.Fstat(p[0], &now) == nil && now.Ino == st.Ino && now.Dev == st.Dev
	}
}

// TestReleaseClosed: the reference held across a Close closes the
// descriptor when it is released, and reports the close; without a close
// it reports nothing and closes nothing.
func TestReleaseClosed(t *testing.T) {
	r, open := pipeRef(t)
	if !r.acquire() {
		t.Fatal("acquire on an open fdRef failed")
	}
	if r.releaseClosed() || !open() {
		t.Fatal("releaseClosed without a Close reported a close or closed the fd")
	}
	if !r.acquire() {
		t.Fatal("acquire failed")
	}
	if err := r.close(); err != nil || !open() {
		t.Fatalf("close with a reference held: err %v, fd open %v; want nil, open", err, open())
	}
	if r.acquire() {
		t.Fatal("acquire after close succeeded")
	}
	if !open() {
		t.Fatal("a failed acquire closed the fd while a reference is held")
	}
	if !r.releaseClosed() || open() {
		t.Fatalf("the last reference's releaseClosed: fd open %v, want closed", open())
	}
}

// TestReleaseClosedRacingAcquire: releaseClosed's slow path loads the state
// again instead of using its add's result. A failing acquire whose add
// falls between the two must leave the close to that acquire's own
// release, which must then close the descriptor, once.
func TestReleaseClosedRacingAcquire(t *testing.T) {
	r, open := pipeRef(t)
	if !r.acquire() {
		t.Fatal("acquire failed")
	}
	r.close()
	// The failing acquire's add, landing after releaseClosed's add: here,
	// before it, which releasedClosed's load sees the same way.
	r.state.Add(refOne)
	if !r.releaseClosed() {
		t.Fatal("releaseClosed after close reported no close")
	}
	if !open() {
		t.Fatal("releaseClosed closed the fd while another add was in flight")
	}
	r.acquireFailed() // the failing acquire undoes its add: the last reference
	if open() {
		t.Fatal("the fd stayed open after the last reference went")
	}
	if r.state.Load() != refDead {
		t.Fatalf("state %#x, want refDead", r.state.Load())
	}
}
