// Package peers holds the servers make bench-http measures examples/httpd
// against: TechEmpower's plaintext and json tests written the way each
// library's users write them, one command per library (nethttp, fasthttp,
// gnet), and httpcheck, which proves a server answers exactly what the
// tests require before its numbers are believed.
//
// It is a module of its own so that the library's go.mod never depends on
// fasthttp or gnet; the library's ./... does not descend into it.
package peers
