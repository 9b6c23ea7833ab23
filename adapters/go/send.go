package main

// The `send` capability (docs/adapter-protocol.md, docs/wire.md): the check is signed exactly as
// for `sign`, then the signed request goes out with net/http, the way a Go user sends what the
// library signed: the very *http.Request the library signed in place (header mode, and presigning
// signers that write into the request), or, for a presigner that returns a URL
// (aws-sdk-go-v2 PresignHTTP), http.NewRequest(method, presignedURL, body) with the signed headers
// it returned. The client is an http.Client with a 5 s timeout on net/http's DefaultTransport.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// clients lists the HTTP clients every Go adapter sends with.
var clients = []string{"net-http"}

const sendTimeout = 5 * time.Second

// Sent is what the client got: the status and the capture server's request number, or its error.
type Sent struct {
	Client   string `json:"client"`
	Status   int    `json:"status,omitempty"`
	Received string `json:"received,omitempty"`
	Error    string `json:"error,omitempty"`
}

// withClients adds the clients to an adapter's capabilities (hello).
func withClients(caps map[string]interface{}) map[string]interface{} {
	caps["clients"] = clients
	return caps
}

// sendOne signs the check as signOne does and sends the signed request.
func sendOne(ad Adapter, msg *message) Result {
	if msg.Client != "net-http" {
		return adapterError("unknown client %q (this adapter sends with: %s)", msg.Client, strings.Join(clients, ", "))
	}
	res := signOne(ad, msg.Check, true)
	if res.Status == "signed" && res.Stream != nil {
		return unsupported("net-http sends single signed requests; this check is a streaming one")
	}
	if res.Status != "signed" || res.Signed == nil {
		return res
	}
	scheme := msg.Scheme
	if scheme == "" {
		scheme = "http"
	}
	req, err := res.Signed.request(scheme)
	if err != nil {
		res.Sent = &Sent{Client: msg.Client, Error: fmt.Sprintf("%T: %v", err, err)}
		return res
	}
	client := &http.Client{Timeout: sendTimeout}
	resp, err := client.Do(req)
	if err != nil {
		res.Sent = &Sent{Client: msg.Client, Error: fmt.Sprintf("%T: %v", err, err)}
		return res
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res.Sent = &Sent{Client: msg.Client, Status: resp.StatusCode, Received: resp.Header.Get("X-Sigharness-Received")}
	return res
}

// wireURL replaces the URL's scheme; an explicit default port 443 becomes 80.
func wireURL(url, scheme string) string {
	i := strings.Index(url, "://")
	if i < 0 {
		return url
	}
	rest := url[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	if strings.EqualFold(url[:i], "https") && strings.HasSuffix(authority, ":443") {
		authority = strings.TrimSuffix(authority, ":443") + ":80"
	}
	return scheme + "://" + authority + rest[end:]
}

// request is the request to send: the one the library signed, or a new one for a returned URL.
func (s *SignedRequest) request(scheme string) (*http.Request, error) {
	b := s.built
	if b != nil && s.URL == b.req.URL.String() {
		req := b.req
		req.URL.Scheme = scheme
		if strings.HasSuffix(req.URL.Host, ":443") {
			req.URL.Host = strings.TrimSuffix(req.URL.Host, ":443") + ":80"
		}
		if len(b.body) > 0 {
			// a signer that read the body leaves it consumed: send it from the start again, as
			// http.NewRequest's GetBody would for a redirect
			req.Body = io.NopCloser(bytes.NewReader(b.body))
		}
		return req, nil
	}
	var body io.Reader
	if b != nil && len(b.body) > 0 {
		body = bytes.NewReader(b.body)
	}
	if s.BodyB64 != nil {
		raw, err := base64.StdEncoding.DecodeString(*s.BodyB64)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(s.Method, wireURL(s.URL, scheme), body)
	if err != nil {
		return nil, err
	}
	for _, h := range s.Headers {
		if strings.EqualFold(h[0], "Host") {
			req.Host = h[1]
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	return req, nil
}
