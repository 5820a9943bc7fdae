package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// ErrorKind names a class of failed request. Kinds are stable strings: they
// appear in results files and thresholds.
type ErrorKind uint8

// The error kinds. KindNone means success.
const (
	KindNone     ErrorKind = iota
	KindRefused            // connection refused
	KindReset              // connection reset by peer
	KindEOF                // connection closed before a full response
	KindTimeout            // request (or connect) timed out
	KindTLS                // TLS handshake or certificate failure
	KindDNS                // name resolution failed
	KindRedirect           // too many redirects
	KindProtocol           // malformed HTTP response, status outside 100–599
	KindHTTP4xx            // response status 400–499 except 429
	KindHTTP5xx            // response status 500–599
	KindCapture            // a step's capture or expect_status failed
	KindCanceled           // the run stopped while the request was in flight
	KindClient             // the request could not be built (template, body)
	KindOther              // anything else
	// KindRateLimited is a 429 Too Many Requests: the target refused the
	// load on purpose, which a rate-limit test counts apart from the
	// client errors of http_4xx.
	KindRateLimited
	// KindCheck is a response that failed one of its step's checks (a
	// scenario's expect); StepError.Check names the check.
	KindCheck
	numKinds
)

var kindNames = [numKinds]string{
	KindNone:        "none",
	KindRefused:     "refused",
	KindReset:       "reset",
	KindEOF:         "eof",
	KindTimeout:     "timeout",
	KindTLS:         "tls",
	KindDNS:         "dns",
	KindRedirect:    "redirect",
	KindProtocol:    "protocol",
	KindHTTP4xx:     "http_4xx",
	KindHTTP5xx:     "http_5xx",
	KindCapture:     "capture",
	KindCanceled:    "canceled",
	KindClient:      "client",
	KindOther:       "other",
	KindRateLimited: "rate_limited",
	KindCheck:       "check",
}

// String returns the kind's stable name.
func (k ErrorKind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "other"
}

// ParseErrorKind returns the kind with the given name.
func ParseErrorKind(name string) (ErrorKind, bool) {
	for k, n := range kindNames {
		if n == name {
			return ErrorKind(k), true
		}
	}
	return KindOther, false
}

// StepError is an error with a kind, returned by steps and clients that
// know what went wrong.
type StepError struct {
	Kind ErrorKind
	// Name is a short, specific label such as "capture next_cursor".
	Name string
	// NotSent is why a step's Prepare could not build its request, when
	// that is the error.
	NotSent NotSentReason
	// Check names the failed check of a KindCheck error, such as
	// "json data.state"; the run counts failures per check.
	Check string
	Err   error
}

// Error implements error.
func (e *StepError) Error() string {
	switch {
	case e.Name != "" && e.Err != nil:
		return e.Name + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	default:
		return e.Name
	}
}

// Unwrap returns the underlying error.
func (e *StepError) Unwrap() error { return e.Err }

// KindOfStatus returns the error kind of an HTTP status (KindNone below 400,
// KindRateLimited for 429, KindProtocol outside 100–599).
func KindOfStatus(status int) ErrorKind {
	switch {
	case status >= 600:
		// HTTP defines 100–599; a server that sends 700 is broken, not
		// failing the way a 5xx says.
		return KindProtocol
	case status >= 500:
		return KindHTTP5xx
	case status == 429:
		return KindRateLimited
	case status >= 400:
		return KindHTTP4xx
	case status < 100:
		return KindProtocol
	}
	return KindNone
}

// Classify returns the kind of a request error.
func Classify(err error) ErrorKind {
	if err == nil {
		return KindNone
	}
	var se *StepError
	if errors.As(err, &se) {
		return se.Kind
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alertErr tls.AlertError
	switch {
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case errors.As(err, &dnsErr):
		return KindDNS
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &invalidCert), errors.As(err, &recordErr), errors.As(err, &alertErr):
		return KindTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return KindReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindEOF
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		return KindTLS
	case strings.Contains(msg, "stopped after") && strings.Contains(msg, "redirects"):
		return KindRedirect
	case strings.Contains(msg, "malformed HTTP") || strings.Contains(msg, "bad status line"):
		return KindProtocol
	}
	return classifyHTTP2(msg)
}

// classifyHTTP2 sorts net/http's HTTP/2 errors, whose types are not
// exported, into the kinds HTTP/1.1 failures get: a broken frame or header
// block is protocol, a stream reset or a GOAWAY is reset.
func classifyHTTP2(msg string) ErrorKind {
	for _, code := range [...]string{"PROTOCOL_ERROR", "COMPRESSION_ERROR", "FRAME_SIZE_ERROR", "FLOW_CONTROL_ERROR", "http2: invalid", "http2: malformed"} {
		if strings.Contains(msg, code) {
			return KindProtocol
		}
	}
	for _, sign := range [...]string{"stream error:", "GOAWAY", "http2: client connection lost", "http2: client connection force closed"} {
		if strings.Contains(msg, sign) {
			return KindReset
		}
	}
	return KindOther
}
