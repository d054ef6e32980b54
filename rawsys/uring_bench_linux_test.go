//go:build amd64 || arm64

package rawsys

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
)

// runImpls runs a benchmark's impl=... sub-benchmarks in an order shuffled
// by RAWPOLL_BENCH_ROUND (bench/rounds.sh sets it for each round), as
// bench/main_test.go does, so that no impl always runs first.
func runImpls(b *testing.B, impls map[string]func(*testing.B)) {
	names := make([]string, 0, len(impls))
	for n := range impls {
		names = append(names, n)
	}
	slices.Sort(names) // map order is random: a round number must give one order
	round, _ := strconv.Atoi(os.Getenv("RAWPOLL_BENCH_ROUND"))
	rand.New(rand.NewPCG(uint64(round), 0x5eed)).Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for _, n := range names {
		b.Run("impl="+n, impls[n])
	}
}

// BenchmarkReadyEvent: one event ready, read by the cheapest means each
// mechanism has. impl=uring peeks a CQE in the mapped ring (a load-acquire
// of the tail and the CQE's fields: no system call); impl=uring-consume
// also consumes it and puts it back (two store-releases of the CQ head,
// XCHG on amd64); impl=epoll is epoll_wait(0) through the raw stub on an
// eventfd that stays ready (level-triggered), the cheapest epoll Select.
func BenchmarkReadyEvent(b *testing.B) {
	runImpls(b, map[string]func(*testing.B){
		"uring": func(b *testing.B) {
			r := benchRingWithCqe(b)
			var sum uint64
			b.ReportAllocs()
			for b.Loop() {
				if r.CqReady() == 0 {
					b.Fatal("no completion")
				}
				c := r.CqeAt(0)
				sum += c.UserData + uint64(c.Flags)
			}
			sink.Add(sum)
		},
		"uring-consume": func(b *testing.B) {
			r := benchRingWithCqe(b)
			var sum uint64
			b.ReportAllocs()
			for b.Loop() {
				n := r.CqReady()
				if n == 0 {
					b.Fatal("no completion")
				}
				c := r.CqeAt(0)
				sum += c.UserData + uint64(c.Flags)
				r.CqAdvance(n)
				atomic.StoreUint32(r.Cq.Head, atomic.LoadUint32(r.Cq.Head)-n) // put it back: nothing else posts
			}
			sink.Add(sum)
		},
		"epoll": func(b *testing.B) {
			epfd := newEpoll(b)
			efd := newEventfd(b)
			var ev EpollEvent
			ev.Set(EPOLLIN, 7)
			if errno := EpollCtl(epfd, EPOLL_CTL_ADD, efd, &ev); errno != 0 {
				b.Fatal(errno)
			}
			if _, errno := Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}); errno != 0 {
				b.Fatal(errno)
			}
			buf := make([]EpollEvent, 64)
			var sum uint64
			b.ReportAllocs()
			for b.Loop() {
				n, errno := EpollPwaitRaw(epfd, &buf[0], len(buf), 0)
				if n != 1 || errno != 0 {
					b.Fatal(n, errno)
				}
				sum += buf[0].Data() + uint64(buf[0].Events())
			}
			sink.Add(sum)
		},
	})
}

// BenchmarkEmptyCheck: nothing ready. impl=uring reads the CQ tail and
// the SQ flags (overflow, task work) in the mapping; impl=uring-enter
// adds the io_uring_enter(GETEVENTS, min 0) a Select(0) makes when the
// flags ask for one; impl=epoll is an empty epoll_wait(0).
func BenchmarkEmptyCheck(b *testing.B) {
	runImpls(b, map[string]func(*testing.B){
		"uring": func(b *testing.B) {
			r := newRing(b, 64, nil)
			var sum uint32
			b.ReportAllocs()
			for b.Loop() {
				sum += r.CqReady() + r.SqFlags()&(IORING_SQ_CQ_OVERFLOW|IORING_SQ_TASKRUN)
			}
			sink.Add(uint64(sum))
		},
		"uring-enter": func(b *testing.B) {
			r := newRing(b, 64, nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, errno := IoUringEnterRaw(r.Fd(), 0, 0, IORING_ENTER_GETEVENTS, nil, 0); errno != 0 {
					b.Fatal(errno)
				}
			}
		},
		"epoll": func(b *testing.B) {
			epfd := newEpoll(b)
			buf := make([]EpollEvent, 64)
			b.ReportAllocs()
			for b.Loop() {
				if n, errno := EpollPwaitRaw(epfd, &buf[0], len(buf), 0); n != 0 || errno != 0 {
					b.Fatal(n, errno)
				}
			}
		},
	})
}

var sink atomic.Uint64

// benchRingWithCqe returns a ring holding one NOP completion.
func benchRingWithCqe(b *testing.B) *IoUring {
	r := newRing(b, 64, nil)
	s := getSqe(b, r)
	s.PrepNop()
	s.UserData = 7
	submit(b, r, 1)
	if r.CqReady() != 1 {
		b.Fatal("NOP completion not in the ring")
	}
	return r
}
