package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ---------------------------------------------------------------- 8 TLS vs wrk

// The servers beside the plain one: h2c on one port (section 7) and TLS on
// another, offering h2 and http/1.1 by ALPN (section 8 uses http/1.1).
const extraServersConf = `server {
    listen 127.0.0.1:%[2]d http2 backlog=4096;
    location = /index.html { root %[1]s/html; }
}
server {
    listen 127.0.0.1:%[3]d ssl http2 backlog=4096;
    ssl_certificate %[1]s/tls/cert.pem;
    ssl_certificate_key %[1]s/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location = /index.html { root %[1]s/html; }
}
`

// extraServers writes the configuration of nginx's h2c and TLS servers,
// with a self-signed certificate made now into the run's temporary work
// directory, and notes their URLs.
func (b *bench) extraServers(prefix string) error {
	for _, d := range []string{filepath.Join(prefix, "servers"), filepath.Join(prefix, "tls")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := selfSignedCert(filepath.Join(prefix, "tls")); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	h2Port, err := freePort()
	if err != nil {
		return fmt.Errorf("port: %w", err)
	}
	tlsPort, err := freePort()
	if err != nil {
		return fmt.Errorf("port: %w", err)
	}
	conf := fmt.Appendf(nil, extraServersConf, prefix, h2Port, tlsPort)
	if err := os.WriteFile(filepath.Join(prefix, "servers", "h2-tls.conf"), conf, 0o644); err != nil {
		return err
	}
	b.h2cURL = fmt.Sprintf("http://127.0.0.1:%d/index.html", h2Port)
	b.tlsURL = fmt.Sprintf("https://127.0.0.1:%d/index.html", tlsPort)
	return nil
}

// selfSignedCert writes cert.pem and key.pem (ECDSA P-256, for 127.0.0.1)
// into dir.
func selfSignedCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tailgate bench"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

// TLSRun is one closed-loop HTTPS run (HTTP/1.1) of tailgate or wrk.
type TLSRun struct {
	Tool string `json:"tool"`
	Rep  int    `json:"rep"`
	// Close is true for a new connection (and handshake) per request.
	Close    bool    `json:"close"`
	Requests uint64  `json:"requests"`
	Rate     float64 `json:"rate"`
	CPU      float64 `json:"cpu_us_per_request"`
	MaxRSS   int64   `json:"maxrss"`
	Command  string  `json:"command"`
	Note     string  `json:"note,omitempty"`
}

var tlsTools = []string{"tailgate", "wrk"}

func tlsMode(close bool) string {
	if close {
		return "new connection per request"
	}
	return "keep-alive"
}

func (b *bench) tlsCmd(tool string, close bool) []step {
	d := secs(b.d.tls) + "s"
	var hdr []string
	if close {
		hdr = []string{"-H", "Connection: close"}
	}
	if tool == "wrk" {
		return []step{{argv: append(append([]string{b.c.wrk, "-t1", "-c50", "-d" + d}, hdr...), b.tlsURL)}}
	}
	argv := append([]string{b.c.tailgate, "hit", b.tlsURL, "--insecure", "--vus", "50", "-c", "50", "-d", d, "--quiet"}, hdr...)
	return []step{{argv: argv, stdout: os.DevNull}}
}

// tlsBench runs tailgate and wrk over TLS with keep-alive and with a new
// connection per request, interleaved, 50 connections.
func (b *bench) tlsBench(ctx context.Context) ([]TLSRun, error) {
	logf("8. TLS vs wrk: %d reps × keep-alive, new connection × %v", b.c.reps, tlsTools)
	var out []TLSRun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, close := range []bool{false, true} {
			for _, tool := range rotate(tlsTools, rep) {
				steps := b.tlsCmd(tool, close)
				ps, n, err := b.counted(ctx, "nginx", b.d.tls+30*time.Second, steps...)
				if fatal(err) {
					return out, err
				}
				r := TLSRun{Tool: tool, Rep: rep, Close: close, Requests: n, Rate: float64(n) / b.d.tls.Seconds(),
					MaxRSS: ps[0].MaxRSS, Command: b.commandLine(steps), Note: note(err)}
				if n > 0 {
					r.CPU = float64(ps[0].CPU.Microseconds()) / float64(n)
				}
				logf("  rep %d %-8s %-26s %8.0f req/s  %.1f µs/req", rep+1, tool, tlsMode(close), r.Rate, r.CPU)
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// tlsRatios returns, per repetition, f(a)/f(b) in one mode.
func tlsRatios(runs []TLSRun, close bool, a, b string, f func(TLSRun) float64) []float64 {
	byRep := map[int]map[string]TLSRun{}
	for _, r := range runs {
		if r.Close != close {
			continue
		}
		if byRep[r.Rep] == nil {
			byRep[r.Rep] = map[string]TLSRun{}
		}
		byRep[r.Rep][r.Tool] = r
	}
	var out []float64
	for _, m := range byRep {
		ra, oka := m[a]
		rb, okb := m[b]
		if oka && okb && f(rb) > 0 {
			out = append(out, f(ra)/f(rb))
		}
	}
	return out
}

func tlsRate(r TLSRun) float64 { return r.Rate }
func tlsCPU(r TLSRun) float64  { return r.CPU }

// tlsGoals adds issue 18's TLS target: keep-alive throughput ≥ 0.9× wrk's.
func (doc *document) tlsGoals(add func(what, measured string, ok bool)) {
	if rs := tlsRatios(doc.TLS, false, "tailgate", "wrk", tlsRate); len(rs) > 0 {
		r := median(rs)
		add("TLS keep-alive: throughput ≥ 0.9× wrk's", fmt.Sprintf("%.2f×", r), r >= 0.9)
	}
}

func (doc *document) writeTLS(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 8. TLS vs wrk (HTTP/1.1 over TLS, closed loop, 50 connections, %s, nginx)\n\n", doc.d.tls)
	p("nginx serves the same file on a TLS port with a self-signed ECDSA P-256 certificate made at bench time in the " +
		"run's temporary directory (tailgate runs with `--insecure`; wrk does not verify). \"New connection per request\" " +
		"sends `Connection: close` with both tools, so every request pays a full handshake (neither resumes sessions). " +
		"Requests are nginx's count; CPU is the tool's user+system time over that count.\n\n")
	p("| mode | tool | req/s (median) | req/s per rep | CPU µs/req (median) | ÷ wrk req/s | ÷ wrk CPU | peak RSS |\n|---|---|---|---|---|---|---|---|\n")
	for _, close := range []bool{false, true} {
		for _, tool := range tlsTools {
			var rates, cpus, rss []float64
			var per []string
			for _, r := range doc.TLS {
				if r.Tool == tool && r.Close == close {
					rates, cpus, rss = append(rates, r.Rate), append(cpus, r.CPU), append(rss, mib(r.MaxRSS))
					per = append(per, fmt.Sprintf("%.0f", r.Rate))
				}
			}
			if len(rates) == 0 {
				continue
			}
			rr, cr := "—", "—"
			if tool != "wrk" {
				if rs := tlsRatios(doc.TLS, close, tool, "wrk", tlsRate); len(rs) > 0 {
					rr = fmt.Sprintf("%.2f×", median(rs))
				}
				if rs := tlsRatios(doc.TLS, close, tool, "wrk", tlsCPU); len(rs) > 0 {
					cr = fmt.Sprintf("%.2f×", median(rs))
				}
			}
			p("| %s | %s | %.0f | %s | %.1f | %s | %s | %.1f MiB |\n", tlsMode(close), tool, median(rates), strings.Join(per, ", "), median(cpus), rr, cr, median(rss))
		}
	}
	var notes []string
	for _, r := range doc.TLS {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s %s, rep %d: %s", r.Tool, tlsMode(r.Close), r.Rep+1, r.Note))
		}
	}
	writeNotes(w, notes)
	p("\nCommands:\n\n```\n")
	seen := map[string]bool{}
	for _, r := range doc.TLS {
		k := fmt.Sprint(r.Tool, r.Close)
		if !seen[k] {
			seen[k] = true
			p("%s\n", r.Command)
		}
	}
	p("```\n\n")
}
