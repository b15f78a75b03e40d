package sqldtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
)

// JWTKey is an Ed25519 key pair for a sqld that checks auth tokens: start
// it with Args, sign tokens with Token.
type JWTKey struct {
	private ed25519.PrivateKey
	// File holds the public key as sqld reads it: the raw 32 bytes in
	// URL-safe base64.
	File string
}

// NewJWTKey makes a key and writes its public half into dir.
func NewJWTKey(dir string) (*JWTKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "jwt-key.pub")
	if err := os.WriteFile(file, []byte(base64.RawURLEncoding.EncodeToString(pub)), 0o600); err != nil {
		return nil, err
	}
	return &JWTKey{private: priv, File: file}, nil
}

// Args are the sqld flags that make it accept only tokens of this key.
func (k *JWTKey) Args() []string { return []string{"--auth-jwt-key-file", k.File} }

// Token signs claims, for example {"a": "rw"} for full access, with "exp"
// (Unix seconds) to make it expire.
func (k *JWTKey) Token(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "EdDSA", "typ": "JWT"}) + "." + enc(claims)
	return signing + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(k.private, []byte(signing)))
}
