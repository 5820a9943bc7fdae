//go:build !linux

package loadgen

import (
	"errors"
	"net"
	"syscall"
)

// rawIO is Linux only, the platform it was measured on: elsewhere newRawIO
// returns nil and the client reads and writes through net.Conn.
type rawIO struct {
	rc syscall.RawConn // never set: newRawIO returns nil here
}

func newRawIO(net.Conn) *rawIO { return nil }

func (r *rawIO) Read([]byte) (int, error) { return 0, errors.ErrUnsupported }

func (r *rawIO) sendAwait([]byte) (int, error) { return 0, errors.ErrUnsupported }

func (r *rawIO) Write([]byte) (int, error) { return 0, errors.ErrUnsupported }
