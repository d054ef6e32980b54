//go:build linux && (amd64 || arm64)

package selector_test

import (
	"testing"

	"github.com/rawpoll/rawpoll/selector"
)

// BenchmarkSelect10kOneReady: Select(0) over 10,000 registered pipe
// descriptors with one ready (see TenKPipeFds), on whichever backend this build selects: its name carries
// impl=<backend>, so `make bench-poll` can compare the default build
// (epoll) with -tags rawpoll_forcepoll (poll) in one benchstat table.
func BenchmarkSelect10kOneReady(b *testing.B) {
	const n = 10000
	s, err := selector.New()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fds := TenKPipeFds(b, n)
	for i, fd := range fds {
		if err := s.Register(fd, selector.Token(i), selector.Readable); err != nil {
			b.Fatal(err)
		}
	}
	ready := fds[n-1]
	ev := selector.NewEvents(64)
	b.Run("impl="+s.Backend(), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			// The byte stays unread, so the fd is ready every time: on
			// epoll re-arming needs a new edge (Reregister, as a loop that
			// re-registers after a partial read does); on poll WouldBlock
			// is enough. Both are done on both, so the load is the same.
			if err := s.Reregister(ready, n-1, selector.Readable); err != nil {
				b.Fatal(err)
			}
			s.WouldBlock(ready, selector.Readable)
			if err := s.Select(ev, 0); err != nil || ev.Len() != 1 {
				b.Fatal(err, ev.Len())
			}
		}
	})
}
