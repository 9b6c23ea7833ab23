package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"time"
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// builtRequest is an *http.Request built the way a Go user builds one, plus
// the order in which the header names were first added (http.Header is a map
// and keeps no order; the order is only used to write the answer).
type builtRequest struct {
	req   *http.Request
	body  []byte
	order []string
}

// buildRequest builds the request with http.NewRequest(method, url, body) and
// adds the headers with req.Header.Add, in order, duplicates kept. The first
// Host header sets req.Host (the only way to set the Host a Go client sends;
// net/http ignores a "Host" entry in req.Header).
//
// useOpaque selects the raw-path convention documented by aws-sdk-go (v1) and
// aws-sdk-go-v2's signer for pre-escaped paths: req.URL.Opaque =
// "//<host><path>", so the signer and the client use the path exactly as it
// appears on the wire. When http.NewRequest refuses the full URL and useOpaque
// is set, the request is built from "scheme://host[?query]" and the path is
// carried by Opaque alone; the signer reads only Opaque for the path in either
// case, so the two routes give the same result.
func buildRequest(c *Check, useOpaque bool) (*builtRequest, error) {
	body, err := base64.StdEncoding.DecodeString(c.Request.BodyB64)
	if err != nil {
		return nil, fmt.Errorf("adapter: bad body_b64: %v", err)
	}
	newBody := func() io.Reader {
		if len(body) == 0 {
			return nil
		}
		return bytes.NewReader(body)
	}
	r := c.Request
	req, err := http.NewRequest(r.Method, r.URL, newBody())
	if err != nil && useOpaque {
		base := r.Scheme + "://" + r.Host
		if r.Query != "" {
			base += "?" + r.Query
		}
		var err2 error
		req, err2 = http.NewRequest(r.Method, base, newBody())
		if err2 == nil {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	if useOpaque {
		req.URL.Opaque = "//" + r.Host + r.Path
	}
	b := &builtRequest{req: req, body: body}
	seen := map[string]bool{}
	hostSet := false
	for _, h := range r.Headers {
		name, value := h[0], h[1]
		if !hostSet && textproto.CanonicalMIMEHeaderKey(name) == "Host" {
			req.Host = value
			hostSet = true
			continue
		}
		req.Header.Add(name, value)
		key := textproto.CanonicalMIMEHeaderKey(name)
		if !seen[key] {
			seen[key] = true
			b.order = append(b.order, key)
		}
	}
	return b, nil
}

// wireHeaders lists the request's headers as net/http would send them: Host
// (req.Host, else URL.Host), Content-Length when net/http derives it from the
// body, then req.Header in the order the names were first added, then names
// the library added (sorted; http.Header has no order). A "Host" entry in
// req.Header is not sent by net/http and is left out.
func (b *builtRequest) wireHeaders() [][2]string {
	req := b.req
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	out := [][2]string{{"Host", host}}
	if _, ok := req.Header["Content-Length"]; !ok && req.ContentLength > 0 {
		out = append(out, [2]string{"Content-Length", strconv.FormatInt(req.ContentLength, 10)})
	}
	done := map[string]bool{"Host": true}
	emit := func(key string) {
		if done[key] {
			return
		}
		done[key] = true
		for _, v := range req.Header[key] {
			out = append(out, [2]string{key, v})
		}
	}
	for _, k := range b.order {
		emit(k)
	}
	var extra []string
	for k := range req.Header {
		if !done[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		emit(k)
	}
	return out
}

func (b *builtRequest) signed(url string) *SignedRequest {
	return &SignedRequest{Method: b.req.Method, URL: url, Headers: b.wireHeaders(), built: b}
}

// payloadHashHex is the payload hash the check asks to sign, for the libraries
// whose API takes the hash from the caller.
func payloadHashHex(c *Check, body []byte) (string, error) {
	switch c.Context.Payload {
	case "body":
		sum := sha256.Sum256(body)
		return hex.EncodeToString(sum[:]), nil
	case "empty":
		return emptySHA256, nil
	case "unsigned":
		return "UNSIGNED-PAYLOAD", nil
	}
	if strings.HasPrefix(c.Context.Payload, "STREAMING-") { // a streaming seed (streaming.go)
		return c.Context.Payload, nil
	}
	return "", fmt.Errorf("unknown context.payload %q", c.Context.Payload)
}

func signingTime(c *Check) (time.Time, error) {
	return time.Parse(time.RFC3339, c.Context.Timestamp)
}

// appendExpires adds X-Amz-Expires to the request's query before presigning,
// with the snippet aws-sdk-go-v2's PresignHTTP documentation gives its callers:
//
//	query := req.URL.Query()
//	query.Set("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
//	req.URL.RawQuery = query.Encode()
func appendExpires(b *builtRequest, c *Check) error {
	if c.Context.Expires == nil {
		return fmt.Errorf("query mode without context.expires")
	}
	query := b.req.URL.Query()
	query.Set("X-Amz-Expires", strconv.FormatInt(*c.Context.Expires, 10))
	b.req.URL.RawQuery = query.Encode()
	return nil
}

func strPtr(s string) *string { return &s }
