//go:build linux && rawpoll_forcepoll

package selector

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/rawpoll/rawpoll/rawsys"
)

// scanReventsNEON is implemented in poll_scan_arm64.s. It only reads the
// n entries at fds, and it is a leaf: nothing to tell the scheduler.
//
//go:noescape
func scanReventsNEON(fds *rawsys.PollFd, n int) int

func scanReventsSIMD(fds []rawsys.PollFd) int {
	if len(fds) == 0 {
		return 0
	}
	return scanReventsNEON(&fds[0], len(fds))
}

// simdScan is chosen once at start-up. Advanced SIMD is part of the arm64
// baseline, but cpuid is asked all the same, so a report of its absence
// (an odd emulator) falls back to the Go loop.
var simdScan = cpuid.CPU.Supports(cpuid.ASIMD)
