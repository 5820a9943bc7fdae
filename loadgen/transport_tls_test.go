package loadgen

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a CA and the certificates the TLS tests need, made fresh for
// every test run.
type testPKI struct {
	ca                       *x509.Certificate
	caKey                    *ecdsa.PrivateKey
	caPool                   *x509.CertPool
	caFile                   string
	good, expired, wrongHost tls.Certificate
	selfSigned               tls.Certificate
	clientCertFile           string
	clientKeyFile            string
	serverKeyFile            string
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{}
	now := time.Now()
	var err error
	p.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tailgate test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(caDER)
	p.caPool = x509.NewCertPool()
	p.caPool.AddCert(p.ca)
	p.caFile = writeTestFile(t, dir, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))

	loopback := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	serial := int64(2)
	leaf := func(cn string, dns []string, ips []net.IP, from, to time.Time, usage x509.ExtKeyUsage, selfSigned bool) (tls.Certificate, []byte, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		serial++
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			DNSNames: dns, IPAddresses: ips, NotBefore: from, NotAfter: to,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		parent, signer := p.ca, any(p.caKey)
		if selfSigned {
			parent, signer = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return pair, certPEM, keyPEM
	}
	var keyPEM []byte
	p.good, _, keyPEM = leaf("localhost", []string{"localhost"}, loopback, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageServerAuth, false)
	p.serverKeyFile = writeTestFile(t, dir, "server.key", string(keyPEM))
	p.expired, _, _ = leaf("localhost", []string{"localhost"}, loopback, now.Add(-48*time.Hour), now.Add(-24*time.Hour), x509.ExtKeyUsageServerAuth, false)
	p.wrongHost, _, _ = leaf("example.com", []string{"example.com"}, nil, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageServerAuth, false)
	p.selfSigned, _, _ = leaf("self", []string{"localhost"}, loopback, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageServerAuth, true)
	_, certPEM, clientKey := leaf("client", nil, nil, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageClientAuth, false)
	p.clientCertFile = writeTestFile(t, dir, "client.pem", string(certPEM))
	p.clientKeyFile = writeTestFile(t, dir, "client.key", string(clientKey))
	return p
}

func writeTestFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsServer starts an HTTPS server with the certificate; h2 enables
// HTTP/2, and clientCA requires a client certificate signed by it.
func tlsServer(t *testing.T, cert tls.Certificate, h2 bool, clientCA *x509.CertPool) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = h2
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCA != nil {
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		srv.TLS.ClientCAs = clientCA
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name     string
		cert     tls.Certificate
		clientCA bool
		o        ClientOptions
		host     string // "" for 127.0.0.1
		kind     ErrorKind
		msg      string
	}{
		{name: "self-signed", cert: pki.selfSigned, kind: KindTLS, msg: "self-signed certificate \"self\" is not trusted"},
		{name: "self-signed insecure", cert: pki.selfSigned, o: ClientOptions{Insecure: true}},
		{name: "unknown CA", cert: pki.good, kind: KindTLS, msg: "unknown authority"},
		{name: "custom CA", cert: pki.good, o: ClientOptions{CACert: pki.caFile}},
		{name: "custom CA by name", cert: pki.good, o: ClientOptions{CACert: pki.caFile}, host: "localhost"},
		{name: "expired", cert: pki.expired, o: ClientOptions{CACert: pki.caFile}, kind: KindTLS, msg: "certificate expired on"},
		{name: "expired insecure", cert: pki.expired, o: ClientOptions{Insecure: true}},
		{name: "wrong host", cert: pki.wrongHost, o: ClientOptions{CACert: pki.caFile}, kind: KindTLS, msg: "wrong host (127.0.0.1 is not among its names [example.com])"},
		{name: "client cert missing", cert: pki.good, clientCA: true, o: ClientOptions{CACert: pki.caFile}, kind: KindTLS, msg: "TLS"},
		{name: "client cert", cert: pki.good, clientCA: true, o: ClientOptions{CACert: pki.caFile, Cert: pki.clientCertFile, Key: pki.clientKeyFile}},
	}
	for _, h2 := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.name + map[bool]string{false: "/h1", true: "/h2"}[h2]
			t.Run(name, func(t *testing.T) {
				var ca *x509.CertPool
				if tt.clientCA {
					ca = pki.caPool
				}
				srv := tlsServer(t, tt.cert, h2, ca)
				url := srv.URL
				if tt.host != "" {
					url = strings.Replace(url, "127.0.0.1", tt.host, 1)
				}
				o := tt.o
				o.HTTP2 = h2
				o.Timeout = 5 * time.Second
				tr, err := NewTransport(o)
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				c, _ := tr.NewClient()
				defer c.Close()
				res, err := tdo(c, context.Background(), "GET", url+"/", func(r *Request) { r.KeepBody = 64 })
				if tt.kind == KindNone {
					if err != nil {
						t.Fatal(err)
					}
					want := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]
					if res.Status != 200 || string(res.Body) != want {
						t.Fatalf("got %d %q, want 200 %q", res.Status, res.Body, want)
					}
					return
				}
				if err == nil {
					t.Fatalf("got %d, want a %s error", res.Status, tt.kind)
				}
				t.Logf("error: %v", err)
				wantKind(t, err, tt.kind)
				if !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("error %q does not say %q", err, tt.msg)
				}
			})
		}
	}
}

// TestTLSPlainPort checks the message when https:// points at plain HTTP.
func TestTLSPlainPort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := newTestH1(t, ClientOptions{Timeout: 5 * time.Second})
	_, err := tdo(c, context.Background(), "GET", strings.Replace(srv.URL, "http:", "https:", 1), nil)
	wantKind(t, err, KindTLS)
	if !strings.Contains(err.Error(), "did not answer with TLS") {
		t.Fatalf("error %q", err)
	}
}

// TestHTTP2Mismatch checks the messages when --http2 meets a server that
// speaks only HTTP/1.1, over TLS (no ALPN h2) and in clear text (no h2c).
func TestHTTP2Mismatch(t *testing.T) {
	pki := newTestPKI(t)
	tr, err := NewTransport(ClientOptions{HTTP2: true, CACert: pki.caFile, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c, _ := tr.NewClient()
	tests := []struct {
		url  string
		kind ErrorKind
		msg  string
	}{
		{tlsServer(t, pki.good, false, nil).URL, KindTLS, "does not offer HTTP/2"},
		{newRawServer(t, serveStatic).URL, KindProtocol, "answered in HTTP/1.1"},
	}
	for _, tt := range tests {
		_, err := tdo(c, context.Background(), "GET", tt.url, nil)
		wantKind(t, err, tt.kind)
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("error %q does not say %q", err, tt.msg)
		}
	}
}
