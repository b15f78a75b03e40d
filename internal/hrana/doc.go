// Package hrana is a client for the Hrana protocol spoken by libSQL's server
// (sqld) and Turso, written from the specification in the libSQL repository
// (docs/HRANA_3_SPEC.md and docs/HTTP_V2_SPEC.md).
//
// It knows the wire and nothing else: no database/sql, no ent. A Client
// holds the server address, the credentials and a keep-alive HTTP transport;
// a Stream is one server-side SQL connection, addressed over HTTP by the
// baton the server hands back with every response. Callers decide what
// travels together in one pipeline request: that is where round trips are
// won or lost.
package hrana
