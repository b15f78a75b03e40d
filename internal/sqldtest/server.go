package sqldtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Options configure a server.
type Options struct {
	// Args are extra sqld flags (auth keys, replication, namespaces).
	Args []string
	// DataDir reuses a directory (to restart on the same data); by default
	// a fresh temporary one is made and removed by Stop.
	DataDir string
	// Log, when set, also receives sqld's output.
	Log io.Writer
}

// Server is a running sqld on 127.0.0.1.
type Server struct {
	opts    Options
	bin     string
	dataDir string
	ownDir  bool
	addr    string
	cmd     *exec.Cmd
	exited  chan struct{}
	log     *tailBuffer
	mu      sync.Mutex
}

// Start starts sqld and waits until it answers /health.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := Binary(ctx)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, bin: bin, dataDir: opts.DataDir}
	if s.dataDir == "" {
		if s.dataDir, err = os.MkdirTemp("", "sqldtest-"); err != nil {
			return nil, err
		}
		s.ownDir = true
	}
	// A port picked by listening and closing can be taken before sqld
	// binds it; try a few.
	for attempt := 0; ; attempt++ {
		if s.addr, err = freeAddr(); err == nil {
			if err = s.start(ctx); err == nil {
				return s, nil
			}
		}
		if attempt == 2 || ctx.Err() != nil {
			if s.ownDir {
				os.RemoveAll(s.dataDir)
			}
			return nil, err
		}
	}
}

func (s *Server) start(ctx context.Context) error {
	args := append([]string{
		"--db-path", filepath.Join(s.dataDir, "data.sqld"),
		"--http-listen-addr", s.addr,
		"--no-welcome",
		"--disable-metrics",
	}, s.opts.Args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dataDir
	s.log = &tailBuffer{max: 8 << 10}
	var out io.Writer = s.log
	if s.opts.Log != nil {
		out = io.MultiWriter(s.log, s.opts.Log)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting sqld: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	if err := s.waitHealthy(ctx, 20*time.Second); err != nil {
		s.Kill()
		return err
	}
	return nil
}

func (s *Server) waitHealthy(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("sqld exited during start-up; its output:\n%s", s.log.String())
		default:
		}
		if resp, err := client.Get(s.URL() + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("sqld did not become healthy within %v; its output:\n%s", limit, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URL is the server's HTTP base URL.
func (s *Server) URL() string { return "http://" + s.addr }

// Addr is host:port of the HTTP listener.
func (s *Server) Addr() string { return s.addr }

// DataDir is the directory holding the database.
func (s *Server) DataDir() string { return s.dataDir }

// Output is the tail of what sqld printed.
func (s *Server) Output() string { return s.log.String() }

// Stop stops sqld (SIGTERM, then SIGKILL after 5 s) and removes a data
// directory it made. It is safe to call twice.
func (s *Server) Stop() error {
	s.terminate(syscall.SIGTERM, 5*time.Second)
	if s.ownDir {
		return os.RemoveAll(s.dataDir)
	}
	return nil
}

// Kill ends sqld at once (SIGKILL), keeping its data, as a crash would.
func (s *Server) Kill() error {
	s.terminate(syscall.SIGKILL, 0)
	return nil
}

// Restart stops sqld and starts it again on the same port and data.
func (s *Server) Restart(ctx context.Context) error {
	s.terminate(syscall.SIGTERM, 5*time.Second)
	return s.start(ctx)
}

func (s *Server) terminate(sig syscall.Signal, grace time.Duration) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-exited:
			return
		case <-time.After(grace):
			_ = cmd.Process.Kill()
		}
	}
	<-exited
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
