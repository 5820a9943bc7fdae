package loadgen

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// TestClassifyWrapped checks that Classify sees through the wrapping that
// the transports and net/http add (url.Error, net.OpError, fmt %w).
func TestClassifyWrapped(t *testing.T) {
	op := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: err}}
	}
	ue := func(err error) error { return &url.Error{Op: "Get", URL: "http://h/", Err: err} }
	tests := []struct {
		err  error
		want ErrorKind
	}{
		{nil, KindNone},
		{op(syscall.ECONNREFUSED), KindRefused},
		{ue(op(syscall.ECONNRESET)), KindReset},
		{fmt.Errorf("write: %w", op(syscall.EPIPE)), KindReset},
		{op(syscall.ECONNABORTED), KindReset},
		{ue(io.ErrUnexpectedEOF), KindEOF},
		{fmt.Errorf("x: %w", os.ErrDeadlineExceeded), KindTimeout},
		{ue(context.DeadlineExceeded), KindTimeout},
		{fmt.Errorf("x: %w", context.Canceled), KindCanceled},
		{ue(&net.DNSError{Err: "no such host", Name: "h", IsNotFound: true}), KindDNS},
		{ue(x509.UnknownAuthorityError{}), KindTLS},
		{&StepError{Kind: KindRedirect, Err: errors.New("stopped after 3 redirects")}, KindRedirect},
		{ue(&StepError{Kind: KindRedirect, Err: errors.New("stopped after 3 redirects")}), KindRedirect},
		{errors.New("net/http: HTTP/1.x transport connection broken: malformed HTTP status code"), KindProtocol},
		{errors.New("something else"), KindOther},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}
