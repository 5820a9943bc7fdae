package main

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the figures were measured.
type Machine struct {
	CPUs   int    `json:"cpus"`
	Model  string `json:"model"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
}

func machineInfo() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("nproc").Output(); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
			m.CPUs = n
		}
	}
	return m
}

func (b *bench) versions() map[string]string {
	v := map[string]string{}
	first := func(s string) string {
		s = strings.TrimSpace(s)
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		}
		return s
	}
	out, _ := exec.Command(b.c.wrk, "-v").CombinedOutput()
	v["wrk"] = first(string(out))
	out, _ = exec.Command(b.c.nginx, "-v").CombinedOutput()
	v["nginx"] = first(string(out))
	if b.c.sections[7] {
		out, _ = exec.Command(b.c.h2load, "--version").CombinedOutput()
		v["h2load"] = first(string(out))
	}
	if b.c.sections[6] || b.c.sections[9] {
		out, _ = exec.Command(b.c.wrk2, "-v").CombinedOutput()
		v["wrk2"] = "wrk2 44a94c1 from ../shared/peers: " + first(string(out))
	}
	for _, t := range []struct{ name, path string }{{"vegeta", b.c.vegeta}, {"hey", b.c.hey}, {"tailgate", b.c.tailgate}} {
		out, err := exec.Command("go", "version", "-m", t.path).Output()
		if err != nil {
			v[t.name] = "unknown"
			continue
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == "mod" {
				v[t.name] = f[1] + " " + f[2]
			}
		}
		if t.name == "tailgate" && b.c.tailgateRev != "" {
			v[t.name] = b.c.tailgateRev
		}
	}
	return v
}
