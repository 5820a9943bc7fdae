package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bench holds the running servers and the measurements' settings.
type bench struct {
	c config
	d durations

	nginx       *exec.Cmd
	nginxURL    string // static file
	nginxStatus string // stub_status
	target      *exec.Cmd
	targetURL   string
	h2cURL      string // the static file over h2c (prior knowledge)
	tlsURL      string // the static file over TLS (ALPN h2 and http/1.1)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

const nginxConf = `worker_processes 1;
daemon off;
master_process on;
user root;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
worker_rlimit_nofile %[3]d;
events { worker_connections %[4]d; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    client_body_temp_path %[1]s/tmp;
    proxy_temp_path %[1]s/tmp;
    fastcgi_temp_path %[1]s/tmp;
    uwsgi_temp_path %[1]s/tmp;
    scgi_temp_path %[1]s/tmp;
    server {
        listen 127.0.0.1:%[2]d backlog=4096;
        location = /index.html { root %[1]s/html; }
        location = /nginx_status { stub_status; }
    }
    include %[1]s/servers/*.conf;
}
`

func (b *bench) startServers(ctx context.Context) error {
	prefix := filepath.Join(b.c.work, "nginx")
	for _, d := range []string{prefix, filepath.Join(prefix, "html"), filepath.Join(prefix, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// A small static file: 128 bytes of body, like a tiny JSON answer.
	body := strings.Repeat("tailgate benchmark payload. ", 5)[:127] + "\n"
	if err := os.WriteFile(filepath.Join(prefix, "html", "index.html"), []byte(body), 0o644); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("port: %w", err)
	}
	if err := b.extraServers(prefix); err != nil {
		return err
	}
	// Section 9's 10,000 connections need as many descriptors in nginx's
	// worker: as many as the hard limit allows (raising it would need
	// privileges a container may not have).
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("RLIMIT_NOFILE: %w", err)
	}
	nofile := int(min(lim.Max, 1<<20))
	if nofile < connCounts[len(connCounts)-1]+1024 {
		logf("RLIMIT_NOFILE hard limit %d: nginx cannot take %d connections", nofile, connCounts[len(connCounts)-1])
	}
	conf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, prefix, port, nofile, nofile-64), 0o644); err != nil {
		return err
	}
	b.nginx = exec.Command("nice", b.pinned(b.c.serverCPU, b.c.nginx, "-p", prefix, "-c", conf, "-e", filepath.Join(prefix, "error.log"))...)
	b.nginx.Stdout, b.nginx.Stderr = os.Stderr, os.Stderr
	if err := b.nginx.Start(); err != nil {
		return fmt.Errorf("start nginx: %w", err)
	}
	logf("nginx pid %d on 127.0.0.1:%d (CPU %s)", b.nginx.Process.Pid, port, b.c.serverCPU)
	b.nginxURL = fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	b.nginxStatus = fmt.Sprintf("http://127.0.0.1:%d/nginx_status", port)
	if err := waitHTTP(ctx, b.nginxStatus); err != nil {
		return fmt.Errorf("nginx: %w (see %s/error.log)", err, prefix)
	}

	tport, err := freePort()
	if err != nil {
		return fmt.Errorf("port: %w", err)
	}
	b.target = exec.Command("nice", b.pinned(b.c.serverCPU, b.c.target,
		"--addr", fmt.Sprintf("127.0.0.1:%d", tport), "--stall-every", "5s", "--stall-for", "500ms")...)
	b.target.Stdout, b.target.Stderr = os.Stderr, os.Stderr
	if err := b.target.Start(); err != nil {
		return fmt.Errorf("start target: %w", err)
	}
	logf("target pid %d on 127.0.0.1:%d (CPU %s)", b.target.Process.Pid, tport, b.c.serverCPU)
	b.targetURL = fmt.Sprintf("http://127.0.0.1:%d/", tport)
	if err := waitHTTP(ctx, b.targetURL+"count"); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	return nil
}

// pinned returns the arguments of nice(1) that run argv at the configured
// nice level, pinned to cpus with taskset(1).
func (b *bench) pinned(cpus string, argv ...string) []string {
	return append([]string{"-n", strconv.Itoa(b.c.nice), "taskset", "-c", cpus}, argv...)
}

// stopServers ends the servers this program started, by PID.
func (b *bench) stopServers() {
	for _, p := range []**exec.Cmd{&b.nginx, &b.target} {
		cmd := *p
		if cmd == nil || cmd.Process == nil {
			continue
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf("stopped pid %d", cmd.Process.Pid)
		*p = nil
	}
}

func waitHTTP(ctx context.Context, url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not answering: %w", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nginxCount reads the requests counter of stub_status (which counts the
// status request itself too).
func (b *bench) nginxCount() (uint64, error) {
	body, err := get(b.nginxStatus)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(body, "\n")
	if len(lines) < 3 {
		return 0, fmt.Errorf("stub_status: unexpected %q", body)
	}
	f := strings.Fields(lines[2])
	if len(f) != 3 {
		return 0, fmt.Errorf("stub_status: unexpected %q", body)
	}
	return strconv.ParseUint(f[2], 10, 64)
}

func (b *bench) targetCount() (uint64, error) {
	body, err := get(b.targetURL + "count")
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(body), 10, 64)
}

func get(url string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return string(body), nil
}
