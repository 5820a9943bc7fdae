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
	"slices"
	"syscall"
	"testing"

	"github.com/tailgate-dev/tailgate/results"
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

// TestKindOfStatus checks the kinds of the statuses a server answers with:
// a 429 is rate_limited, the rest of 4xx http_4xx.
func TestKindOfStatus(t *testing.T) {
	tests := []struct {
		status int
		want   ErrorKind
	}{
		{99, KindProtocol}, {200, KindNone}, {304, KindNone}, {400, KindHTTP4xx}, {404, KindHTTP4xx},
		{428, KindHTTP4xx}, {429, KindRateLimited}, {430, KindHTTP4xx}, {499, KindHTTP4xx},
		{503, KindHTTP5xx}, {600, KindProtocol},
	}
	for _, tt := range tests {
		if got := KindOfStatus(tt.status); got != tt.want {
			t.Errorf("KindOfStatus(%d) = %s, want %s", tt.status, got, tt.want)
		}
	}
	if k, ok := ParseErrorKind("rate_limited"); !ok || k != KindRateLimited {
		t.Errorf("ParseErrorKind(rate_limited) = %s, %v", k, ok)
	}
}

// TestErrorKindNamesMatchResults keeps results.ErrorKindNames, which
// thresholds check "error_rate.KIND" against, equal to the kinds loadgen
// records.
func TestErrorKindNamesMatchResults(t *testing.T) {
	var names []string
	for k := KindNone + 1; k < numKinds; k++ {
		names = append(names, k.String())
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(results.ErrorKindNames))
	if !slices.Equal(names, want) {
		t.Errorf("loadgen kinds %v, results.ErrorKindNames %v", names, want)
	}
}
