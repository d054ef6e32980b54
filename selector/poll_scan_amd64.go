//go:build linux && rawpoll_forcepoll

package selector

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/rawpoll/rawpoll/rawsys"
)

// scanReventsAVX2 is implemented in poll_scan_amd64.s. It only reads the
// n entries at fds, and it is a leaf: nothing to tell the scheduler.
//
//go:noescape
func scanReventsAVX2(fds *rawsys.PollFd, n int) int

func scanReventsSIMD(fds []rawsys.PollFd) int {
	if len(fds) == 0 {
		return 0
	}
	return scanReventsAVX2(&fds[0], len(fds))
}

// simdScan is chosen once at start-up: AVX2 where the CPU (and the OS,
// which cpuid checks through XGETBV) supports it.
var simdScan = cpuid.CPU.Supports(cpuid.AVX2)
