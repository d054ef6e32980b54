//go:build linux && (amd64 || arm64) && !rawpoll_forcepoll

package selector

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReview7UringSubmitterSleeps holds the doc's "at once if it sleeps"
// ("io_uring and threads"; README: a waiting Select gets every completion
// "within a timer tick at worst"), which no test covered: the thread that
// submitted x's poll (another goroutine's Deregister) then sleeps in a
// blocking read(2), and a waiting Select must still get x's event. The
// ring uses IORING_SETUP_COOP_TASKRUN, whose task work is queued with
// TWA_SIGNAL_NO_IPI (io_req_normal_work_add): if a kernel ever left the
// completion with the sleeping thread, this fails. Passes on 6.18 (the
// event arrives in 5-50 us).
func TestReview7UringSubmitterSleeps(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s, ev, b1, y := queuedBehindSubmitted(t)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil { // blocking
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	sleeping := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := s.Deregister(b1) // submits x's poll too, from this thread
		sleeping <- err
		var b [1]byte
		_, err = syscall.Read(p[0], b[:]) // sleeps until the test writes
		done <- err
	}()
	if err := <-sleeping; err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let it reach its read
	if _, err := unix.Write(y, []byte("x")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := false
	for !got && time.Since(start) < 2*time.Second {
		if err := s.Select(ev, 500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		got = ev.Len() > 0
	}
	el := time.Since(start)
	unix.Write(p[1], []byte{1}) // wake the submitter
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !got {
		late := time.Now()
		for !got && time.Since(late) < 2*time.Second {
			s.Select(ev, 500*time.Millisecond)
			got = ev.Len() > 0
		}
		t.Fatalf("a waiting Select did not get x's event in %v while the thread that submitted its poll slept in read(2); after that thread woke: got=%v in %v", el, got, time.Since(late))
	}
	t.Logf("the waiting Select got it after %v", el)
}
