package loadgen

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// buildTLSConfig turns the client options into the TLS configuration shared
// by every connection of a transport. Errors name the file at fault, because
// they reach the user as one line before any request is sent.
func buildTLSConfig(o ClientOptions) (*tls.Config, error) {
	cfg := &tls.Config{
		InsecureSkipVerify: o.Insecure, //nolint:gosec // the user asked for it, and the CLI warns
		MinVersion:         tls.VersionTLS12,
	}
	if o.CACert != "" {
		data, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, fmt.Errorf("CA bundle %s: %w", o.CACert, err)
		}
		// The bundle is trusted in addition to the system roots, so a custom
		// CA for a staging target does not break public targets.
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("CA bundle %s: no PEM certificate found", o.CACert)
		}
		cfg.RootCAs = pool
	}
	switch {
	case o.Cert != "" && o.Key != "":
		pair, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s with key %s: %w", o.Cert, o.Key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case o.Cert != "":
		return nil, fmt.Errorf("client certificate %s: no key file given", o.Cert)
	case o.Key != "":
		return nil, fmt.Errorf("client key %s: no certificate file given", o.Key)
	}
	return cfg, nil
}

// tlsError explains a failed TLS handshake with host. Certificate problems
// get a name that says which one (self-signed, expired, wrong host, unknown
// authority), because "x509: certificate signed by unknown authority" alone
// sends users looking in the wrong place.
func tlsError(err error, host string) error {
	var se *StepError
	if errors.As(err, &se) {
		return err
	}
	const (
		trustHint = " (use --cacert to trust its CA, or --insecure to skip verification)"
		skipHint  = " (use --insecure to skip verification)"
	)
	var (
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		unknown   x509.UnknownAuthorityError
		verifyErr *tls.CertificateVerificationError
		remoteErr *net.OpError
		leaf      *x509.Certificate
		name      string
		recordErr tls.RecordHeaderError
		hint      string
	)
	if errors.As(err, &verifyErr) && len(verifyErr.UnverifiedCertificates) > 0 {
		leaf = verifyErr.UnverifiedCertificates[0]
	}
	switch {
	case errors.As(err, &hostErr):
		name = fmt.Sprintf("TLS: certificate is for the wrong host (%s is not among its names %s)", host, certNames(hostErr.Certificate))
		hint = skipHint
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		c := invalid.Cert
		now := time.Now()
		switch {
		case c != nil && now.After(c.NotAfter):
			name = fmt.Sprintf("TLS: certificate expired on %s", c.NotAfter.UTC().Format(time.DateOnly))
		case c != nil && now.Before(c.NotBefore):
			name = fmt.Sprintf("TLS: certificate not valid before %s", c.NotBefore.UTC().Format(time.DateOnly))
		default:
			name = "TLS: certificate expired or not yet valid"
		}
		hint = skipHint
	case errors.As(err, &invalid):
		name = "TLS: invalid certificate"
		hint = skipHint
	case errors.As(err, &unknown):
		c := unknown.Cert
		if c == nil {
			c = leaf
		}
		if c != nil && isSelfSigned(c) {
			name = fmt.Sprintf("TLS: self-signed certificate %q is not trusted", c.Subject.CommonName)
		} else {
			name = "TLS: certificate signed by an unknown authority"
		}
		hint = trustHint
	case errors.As(err, &recordErr):
		name = "TLS: the server did not answer with TLS (plain HTTP on this port?)"
	case errors.As(err, &remoteErr) && remoteErr.Op == "remote error" && strings.Contains(err.Error(), "no application protocol"):
		// ALPN failed: with --http2 the client offers h2 only.
		name = "TLS: the server does not offer HTTP/2 (no ALPN h2; drop --http2)"
	case errors.As(err, &remoteErr) && remoteErr.Op == "remote error":
		name = "TLS: the server rejected the handshake"
	default:
		name = "TLS handshake failed"
	}
	return &StepError{Kind: KindTLS, Name: name + hint, Err: err}
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "[]"
	}
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	return fmt.Sprint(names)
}

// isSelfSigned reports whether c signed itself.
func isSelfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	return c.CheckSignatureFrom(c) == nil || c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// certProbe notes when a server asks for a client certificate that the
// options do not provide. With TLS 1.3 the server rejects the missing
// certificate only after the client's handshake is done, so the error
// surfaces later as an alert or (through net/http's HTTP/2) as a bare
// "client conn could not be established"; the probe lets both transports
// say what actually went wrong.
type certProbe struct {
	requested atomic.Bool
}

// install hooks the probe into cfg when cfg has no client certificate.
func (p *certProbe) install(cfg *tls.Config) {
	if cfg == nil || len(cfg.Certificates) > 0 || cfg.GetClientCertificate != nil {
		return
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		p.requested.Store(true)
		return &tls.Certificate{}, nil
	}
}

// explain returns a TLS error for err when a server has asked for a client
// certificate that was not given, else nil.
func (p *certProbe) explain(err error) error {
	if !p.requested.Load() {
		return nil
	}
	return &StepError{Kind: KindTLS, Name: "TLS: the server requires a client certificate (use --cert and --key)", Err: err}
}

// tlsConfigFor is the client configuration for a connection to t: base,
// with the target's host as the server name (for SNI and the certificate
// check) unless base names one; cloned only then.
func tlsConfigFor(base *tls.Config, t *h1Target) *tls.Config {
	if base.ServerName != "" {
		return base
	}
	host, _ := t.hostPort()
	cfg := base.Clone()
	cfg.ServerName = host
	return cfg
}
