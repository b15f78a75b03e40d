package libsql

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	const tok = "eyJhbGciOiJFZERTQSJ9.secret-token"
	// A JWT whose signature has no '_', so that it parses as a scheme.
	const jwt = "eyJhbGciOiJFZERTQSJ9.eyJhIjoicncifQ.c2lnbmF0dXJl-b2Y"
	tests := []struct {
		dsn     string
		url     string
		token   string
		wantErr string
	}{
		// libsql://: TLS by default, as Turso's clients.
		{dsn: "libsql://db.turso.io", url: "https://db.turso.io"},
		{dsn: "libsql://db.turso.io?authToken=" + tok, url: "https://db.turso.io", token: tok},
		{dsn: "libsql://127.0.0.1:8080?tls=0", url: "http://127.0.0.1:8080"},
		{dsn: "libsql://127.0.0.1:8080?tls=false&auth_token=" + tok, url: "http://127.0.0.1:8080", token: tok},
		{dsn: "libsql://h:8080?tls=1", url: "https://h:8080"},
		{dsn: "LIBSQL://H", url: "https://H"},
		// https:// and http:// say it themselves.
		{dsn: "https://db.turso.io/", url: "https://db.turso.io"},
		{dsn: "http://localhost:8080", url: "http://localhost:8080"},
		{dsn: "http://localhost:8080?jwt=" + tok, url: "http://localhost:8080", token: tok},
		{dsn: "https://h?tls=1", url: "https://h"},
		{dsn: "http://proxy.example/sqld/", url: "http://proxy.example/sqld"},
		{dsn: "http://[::1]:8080", url: "http://[::1]:8080"},
		// sqlalchemy-libsql's form: plain unless secure=true.
		{dsn: "sqlite+libsql://127.0.0.1:8080", url: "http://127.0.0.1:8080"},
		{dsn: "sqlite+libsql://your-db.turso.io/?authToken=" + tok + "&secure=true", url: "https://your-db.turso.io", token: tok},
		{dsn: "sqlite+libsql://h/?secure=false", url: "http://h"},
		{dsn: "sqlite+libsql://h/?secure=true&tls=1", url: "https://h"},
		{dsn: "libsql://h?authToken=" + tok + "&jwt=" + tok, url: "https://h", token: tok}, // same token twice is fine

		{dsn: "libsql://h?tls=0&secure=true", wantErr: "conflicting parameters tls and secure"},
		{dsn: "https://h?tls=0", wantErr: "tls=0 conflicts with the https:// scheme"},
		{dsn: "http://h?secure=true", wantErr: "secure=true conflicts with the http:// scheme"},
		{dsn: "libsql://h?tls=maybe", wantErr: `parameter "tls" must be true or false`},
		{dsn: "libsql://h?authToken=" + tok + "&jwt=other", wantErr: "conflicting auth tokens in authToken and jwt"},
		{dsn: "libsql://h?authToken=", wantErr: `parameter "authToken" is empty`},
		{dsn: "libsql://h?authToken=" + tok + "&authToken=" + tok, wantErr: `parameter "authToken" is given more than once`},
		{dsn: "libsql://h?authtoken=" + tok, wantErr: `unknown parameter; did you mean authToken?`},
		{dsn: "libsql://h?AUTH-TOKEN=" + tok, wantErr: `did you mean authToken?`},
		{dsn: "libsql://h?timeout=5", wantErr: `unknown parameter (known: tls, secure, authToken, auth_token, jwt)`},
		// A parameter is never echoed, even when its name is the token.
		{dsn: "libsql://h?authToken:" + tok, wantErr: "unknown parameter"},
		{dsn: "libsql://h?" + tok, wantErr: "unknown parameter"},
		{dsn: "libsql://h?tls=1&" + tok + "=1", wantErr: "unknown parameter"},
		// WebSocket.
		{dsn: "ws://127.0.0.1:8080", url: "ws://127.0.0.1:8080"},
		{dsn: "wss://db.turso.io?authToken=" + tok, url: "wss://db.turso.io", token: tok},
		{dsn: "wss://h?tls=0", wantErr: "conflicts with the wss:// scheme"},
		{dsn: "ws://h?secure=true", wantErr: "conflicts with the ws:// scheme"},
		{dsn: "file:local.db", wantErr: "embedded libSQL engine"},
		{dsn: ":memory:", wantErr: "embedded libSQL engine"},
		{dsn: "postgres://h", wantErr: `unsupported scheme "postgres"`},
		// A JWT pasted in the wrong place is never repeated.
		{dsn: jwt + "://h", wantErr: "unsupported scheme (want"},
		{dsn: "libsql://h/" + jwt, wantErr: "looks like an auth token"},
		{dsn: "https://h/prefix/" + jwt + "/", wantErr: "looks like an auth token"},
		{dsn: "libsql://" + jwt + "/", wantErr: "looks like an auth token"},
		{dsn: "https://h/v1.2.3", url: "https://h/v1.2.3"},
		{dsn: "db.turso.io", wantErr: "missing scheme: start the URL with libsql://"},
		{dsn: "localhost:8080", wantErr: "missing scheme: start the URL with libsql://"},
		{dsn: "127.0.0.1:8080?authToken=" + tok, wantErr: "missing scheme: start the URL with libsql://"},
		{dsn: "db.turso.io/?authToken=" + tok, wantErr: "missing scheme"},
		{dsn: "", wantErr: "missing scheme"},
		// The host: never empty, printed as it is dialled.
		{dsn: "http://:8080", wantErr: "missing host"},
		{dsn: "libsql://:443?authToken=" + tok, wantErr: "missing host"},
		{dsn: "http://[]:8080", wantErr: "malformed URL"},
		{dsn: "http://127\u3002" + "0\uff0e0\uff611:8080", url: "http://127.0.0.1:8080"},
		{dsn: "https://B\u00fccher.example", url: "https://xn--bcher-kva.example"},
		{dsn: "https://db.example.com\u202e.evil", wantErr: "bidirectional control character"},
		{dsn: "libsql://h?authToken=" + tok + "\u2066", wantErr: "bidirectional control character"},
		{dsn: "libsql://h\u200f.example", wantErr: "bidirectional control character"},
		{dsn: "libsql://", wantErr: "missing host"},
		{dsn: "libsql:db", wantErr: "missing host"},
		{dsn: "libsql://user:" + tok + "@h", wantErr: "user info"},
		{dsn: "libsql://h#frag", wantErr: "fragment"},
		{dsn: "libsql://h:99999", wantErr: "invalid port"},
		{dsn: "libsql://h:x", wantErr: "invalid port"},
		{dsn: "libsql://h?authToken=" + tok + "%zz", wantErr: "malformed query string"},
		{dsn: "libsql://h%zz?authToken=" + tok, wantErr: "%-escape"},
		{dsn: "libsql://h\x7f?authToken=" + tok, wantErr: "control character"},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(strings.ReplaceAll(tt.dsn, tok, "TOKEN"), jwt, "JWT"), func(t *testing.T) {
			cfg, err := ParseURL(tt.dsn)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret-token") || strings.Contains(strings.ToLower(err.Error()), "eyj") {
					t.Fatalf("error leaks the token: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.URL != tt.url || cfg.AuthToken() != tt.token {
				t.Fatalf("got URL %q token %q, want %q %q", cfg.URL, cfg.AuthToken(), tt.url, tt.token)
			}
		})
	}
}

func TestConfigNeverPrintsToken(t *testing.T) {
	cfg := Config{URL: "https://h"}
	cfg.setToken("secret-token")
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("open", "config", cfg, "ptr", &cfg)
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg, cfg),
		fmt.Sprintf("%v %+v", &cfg, &cfg), logged.String(),
	} {
		if strings.Contains(s, "secret-token") {
			t.Fatalf("token printed: %s", s)
		}
		if !strings.Contains(s, "REDACTED") {
			t.Fatalf("redaction marker missing: %s", s)
		}
	}
}

func TestNewConnectorToken(t *testing.T) {
	c, err := NewConnector("libsql://h", WithAuthToken("a"))
	if err != nil || c.Config().AuthToken() != "a" {
		t.Fatalf("option token: %v %v", c, err)
	}
	if _, err := NewConnector("libsql://h?authToken=a", WithAuthToken("a")); err != nil {
		t.Fatalf("same token twice: %v", err)
	}
	_, err = NewConnector("libsql://h?authToken=secret-a", WithAuthToken("secret-b"))
	if err == nil || !strings.Contains(err.Error(), "conflicting auth tokens") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("conflict: %v", err)
	}
}

// FuzzParseURL: any input gives a config or an error, never a panic, and
// an error never repeats a token-like query value.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"libsql://db.turso.io?authToken=abc", "sqlite+libsql://h:1/?secure=true&jwt=abc",
		"http://[::1]:8080/p/", "libsql://h?tls=0&secure=1", "file::memory:", "wss://x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		cfg, err := ParseURL(dsn)
		if err != nil {
			if cfg != nil {
				t.Fatal("config and error both returned")
			}
			if strings.Contains(dsn, "authToken=sekret") && strings.Contains(err.Error(), "sekret") {
				t.Fatalf("error leaks the token: %v", err)
			}
			return
		}
		if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") {
			t.Fatalf("parsed to a URL of no transport %q", cfg.URL)
		}
		// The token may only show in the URL where the input had it
		// before its query (a token "." and a host with a dot).
		beforeQuery, _, _ := strings.Cut(dsn, "?")
		tok := cfg.AuthToken()
		if strings.Contains(cfg.URL, "?") || (tok != "" && strings.Contains(cfg.URL, tok) && !strings.Contains(beforeQuery, tok)) {
			t.Fatalf("URL %q keeps the query or token", cfg.URL)
		}
	})
}
