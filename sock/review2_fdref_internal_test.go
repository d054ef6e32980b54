//go:build linux && (amd64 || arm64)

package sock

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReview2BeginWaitsForDestroy: begin let storage be reused as soon as
// destroy had *started* (done is set by the CompareAndSwap at its top),
// not when it had closed the old descriptor: an event loop reusing the
// storage (Accept into the closed Conn of a Slab slot) wrote r.fd while
// destroy was about to read it, and the old destroy could close the new
// connection's descriptor and leak the old one. Close now waits for the
// call in flight and closes itself, with the storage reserved until
// close(2) has returned; begin must not succeed before. Under -race an
// unsynchronized r.fd write and read are reported whatever the
// interleaving; without -race the test checks, over bounded rounds, that
// the new descriptor survives and the old one is closed.
func TestReview2BeginWaitsForDestroy(t *testing.T) {
	deadline := time.Now().Add(3 * time.Second)
	for round := 0; round < 2000 && time.Now().Before(deadline); round++ {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		oldFd, newFd := p[0], p[1]
		var r fdRef
		if !r.init(oldFd) {
			t.Fatal("init")
		}
		if !r.acquire() { // a Read in flight in another goroutine
			t.Fatal("acquire")
		}
		closed := make(chan error, 1)
		go func() { closed <- r.closeWait(nil) }() // the loop's Close: waits for the Read
		go func() {
			runtime.Gosched()
			r.release() // the Read returns
		}()
		// The loop reuses the storage as soon as begin allows it.
		ok := false
		for spin, limit := 0, time.Now().Add(5*time.Second); time.Now().Before(limit); spin++ {
			if r.begin() {
				ok = true
				break
			}
			if spin%1024 == 1023 {
				runtime.Gosched() // let Close and the Read run when Ps are short
			}
		}
		if !ok {
			<-closed
			unix.Close(newFd)
			t.Fatal("begin never succeeded")
		}
		r.finish(newFd)
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, errNew := unix.FcntlInt(uintptr(newFd), unix.F_GETFD, 0)
		_, errOld := unix.FcntlInt(uintptr(oldFd), unix.F_GETFD, 0)
		unix.Close(newFd)
		if errOld == nil {
			unix.Close(oldFd)
		}
		if errNew != nil || errOld == nil {
			t.Fatalf("round %d: the old destroy closed the reused storage's descriptor: new fd %d: %v; old fd %d still open: %v",
				round, newFd, errNew, oldFd, errOld == nil)
		}
	}
}

// TestReview2SlabRemoveOfClosedConnInUse: examples/echo closes a
// connection and then removes its Slab slot (c.c.Close();
// l.conns.Remove(tok)), and Conn's Close may race with its other methods,
// the descriptor being closed by the last call using it. Remove zeroes the
// value, fdRef included: a call still holding a reference then released
// into a zeroed state (refs -1, never refDead), so nothing ever closed the
// descriptor, and the slot's next Accept was refused with ErrInUse. Close
// now returns only once the calls in flight have let go and the
// descriptor is closed, so Remove after Close is safe. (The review's test
// held the reference on its own goroutine; with a Close that waits for
// the call, the call is on another goroutine here, as it is in a program.)
func TestReview2SlabRemoveOfClosedConnInUse(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	var slab Slab[Conn]
	tok, c := slab.Alloc()
	if !c.ref.init(p[0]) {
		t.Fatal("init")
	}
	inCall, returned := make(chan struct{}), make(chan struct{})
	go func() { // a Write in flight in another goroutine
		if !c.ref.acquire() {
			t.Error("acquire")
		}
		close(inCall)
		time.Sleep(20 * time.Millisecond)
		c.ref.release() // the Write returns
		close(returned)
	}()
	<-inCall
	c.Close()        // returns once the Write has let go and the descriptor is closed
	slab.Remove(tok) // the loop forgets the connection
	<-returned
	_, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFD, 0)
	if err == nil {
		unix.Close(p[0])
	}
	tok2, c2 := slab.Alloc()
	reusable := c2.ref.begin()
	if reusable {
		c2.ref.abort()
	}
	slab.Remove(tok2)
	if err == nil || !reusable {
		t.Fatalf("after Close, Remove and the last call's release: descriptor %d still open: %v; slot reusable by Accept: %v", p[0], err == nil, reusable)
	}
}
