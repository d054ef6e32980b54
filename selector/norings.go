//go:build !(linux && (amd64 || arm64)) || rawpoll_forcepoll

package selector

import (
	"errors"
	"fmt"
	"runtime"
)

// Without io_uring there are no ring receives to give back.
type bufLoans struct{}

func (bufLoans) giveBack() {}

// IoUringUnavailable reports why New does not use io_uring: this build has
// no io_uring backend (it is not Linux, or it is the poll build).
func IoUringUnavailable() error { return errNoUringBuild }

var errNoUringBuild = fmt.Errorf("selector: no io_uring backend in this build (%s, or -tags rawpoll_forcepoll): %w", runtime.GOOS, errors.ErrUnsupported)
