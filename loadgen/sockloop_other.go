//go:build !linux || !(amd64 || arm64)

package loadgen

import "context"

// newLoopEngine returns nil: the socket loop needs Linux's epoll_pwait2,
// so every plan runs on the goroutine engine here.
func newLoopEngine(context.Context, *Runner) loopEngine { return nil }

// socketLoopHere says whether this platform has the socket loop.
const socketLoopHere = false
