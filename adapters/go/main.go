// sigharness-go-adapter hosts the Go signing-library adapters of sigharness.
//
// It speaks the JSON-lines adapter protocol (docs/adapter-protocol.md) on
// stdin/stdout. The first argument selects the library:
//
//	go-sdk-v2     github.com/aws/aws-sdk-go-v2/aws/signer/v4
//	go-http-auth  github.com/aws/smithy-go/aws-http-auth (sigv4, sigv4a)
//	go-sdk-v1     github.com/aws/aws-sdk-go/aws/signer/v4
//
// The adapters only build an *http.Request the way a Go user would and call
// the library; they never compute or alter any part of a signature.
package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

const protocolVersion = 1

// Check is one case in one mode, as sent by the harness.
type Check struct {
	Case      string `json:"case"`
	Mode      string `json:"mode"`
	Algorithm string `json:"algorithm"`
	Request   struct {
		Method  string      `json:"method"`
		Scheme  string      `json:"scheme"`
		Host    string      `json:"host"`
		Path    string      `json:"path"`
		Query   string      `json:"query"`
		URL     string      `json:"url"`
		Headers [][2]string `json:"headers"`
		BodyB64 string      `json:"body_b64"`
	} `json:"request"`
	Context struct {
		AccessKeyID           string   `json:"access_key_id"`
		SecretAccessKey       string   `json:"secret_access_key"`
		SessionToken          *string  `json:"session_token"`
		Region                string   `json:"region"`
		RegionSet             []string `json:"region_set"`
		Service               string   `json:"service"`
		Timestamp             string   `json:"timestamp"`
		Expires               *int64   `json:"expires"`
		Payload               string   `json:"payload"`
		ContentSHA256Header   bool     `json:"content_sha256_header"`
		SessionTokenPlacement string   `json:"session_token_placement"`
		NormalizePath         bool     `json:"normalize_path"`
		DoubleEncode          bool     `json:"double_encode"`
	} `json:"context"`
	Surface     string           `json:"surface"`      // aws-chunked, event-stream (streaming.go)
	EventStream *EventStreamSpec `json:"event_stream"` // event-stream checks
}

func (c *Check) token() string {
	if c.Context.SessionToken == nil {
		return ""
	}
	return *c.Context.SessionToken
}

// SignedRequest is the request as it would be sent.
type SignedRequest struct {
	Method  string        `json:"method"`
	URL     string        `json:"url"`
	Headers [][2]string   `json:"headers"`
	BodyB64 *string       `json:"body_b64"`
	built   *builtRequest // the request the library signed, for `send` (send.go)
}

// Result is the answer to a sign message.
type Result struct {
	Type             string         `json:"type"`
	ID               string         `json:"id"`
	Status           string         `json:"status"`
	Reason           string         `json:"reason,omitempty"`
	Signed           *SignedRequest `json:"signed,omitempty"`
	CanonicalRequest *string        `json:"canonical_request"`
	StringToSign     *string        `json:"string_to_sign"`
	ElapsedNs        int64          `json:"elapsed_ns,omitempty"`
	Stream           interface{}    `json:"stream,omitempty"` // an aws-chunked or event-stream chain (streaming.go)
	Sent             *Sent          `json:"sent,omitempty"`
}

func unsupported(format string, a ...interface{}) Result {
	return Result{Status: "unsupported", Reason: fmt.Sprintf(format, a...)}
}

func rejected(err error) Result {
	return Result{Status: "rejected", Reason: fmt.Sprintf("%T: %v", err, err)}
}

func adapterError(format string, a ...interface{}) Result {
	return Result{Status: "error", Reason: fmt.Sprintf(format, a...)}
}

// Adapter wraps one library.
type Adapter interface {
	Library() string
	Module() string
	Capabilities() map[string]interface{}
	// Sign signs one check. With logSigning false (bench) the library's
	// signing log is left off, as an application would run it.
	Sign(c *Check, logSigning bool) Result
}

var adapters = map[string]Adapter{
	"sdk-v2":    sdkV2Adapter{},
	"http-auth": httpAuthAdapter{},
	"sdk-v1":    sdkV1Adapter{},
}

// moduleVersion reads the version of a module linked into this binary.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range bi.Deps {
		if dep.Path == path {
			if r := dep.Replace; r != nil {
				if strings.HasPrefix(r.Path, "/") || strings.HasPrefix(r.Path, ".") {
					// A replace directive to a local directory (the
					// project's tests build against an altered copy).
					return dep.Version + " (replaced by " + r.Path + ")"
				}
				return r.Version
			}
			return dep.Version
		}
	}
	return "unknown"
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s sdk-v2|http-auth|sdk-v1 (the entry adapter.yaml names)\n", os.Args[0])
		os.Exit(2)
	}
	ad, ok := adapters[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown adapter %q\n", os.Args[1])
		os.Exit(2)
	}

	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	write := func(v interface{}) {
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(os.Stderr, "encode: %v\n", err)
		}
		out.Flush()
	}

	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if stop := handle(ad, line, write); stop {
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "read: %v\n", err)
			return
		}
	}
}

type message struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Protocol   int             `json:"protocol"`
	Adapter    string          `json:"adapter"` // the adapter's name, from its manifest
	Check      json.RawMessage `json:"check"`
	Floor      string          `json:"floor"`
	Iterations int             `json:"iterations"`
	Client     string          `json:"client"` // send: the HTTP client (send.go)
	Scheme     string          `json:"scheme"`
}

func handle(ad Adapter, line []byte, write func(interface{})) (stop bool) {
	var msg message
	if err := json.Unmarshal(line, &msg); err != nil {
		fmt.Fprintf(os.Stderr, "bad message: %v\n", err)
		write(Result{Type: "result", Status: "error", Reason: "adapter could not parse message: " + err.Error()})
		return false
	}
	switch msg.Type {
	case "hello":
		hello := map[string]interface{}{
			"type":            "hello",
			"protocol":        protocolVersion,
			"language":        "go",
			"runtime":         "go " + strings.TrimPrefix(runtime.Version(), "go"),
			"library":         ad.Library(),
			"library_version": moduleVersion(ad.Module()),
			"capabilities":    withClients(withStreaming(adapterName(ad), ad.Capabilities())),
		}
		if msg.Adapter != "" {
			hello["name"] = msg.Adapter // the name is the manifest's; echoed, never kept here
		}
		write(hello)
	case "bye":
		return true
	case "sign":
		res := signOne(ad, msg.Check, true)
		res.Type, res.ID = "result", msg.ID
		write(res)
	case "send":
		res := sendOne(ad, &msg)
		res.Type, res.ID = "result", msg.ID
		write(res)
	case "bench":
		write(bench(ad, &msg))
	default:
		write(Result{Type: "result", ID: msg.ID, Status: "error", Reason: "unknown message type " + msg.Type})
	}
	return false
}

func signOne(ad Adapter, raw json.RawMessage, logSigning bool) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			res = adapterError("panic: %v\n%s", r, debug.Stack())
		}
	}()
	var c Check
	if err := json.Unmarshal(raw, &c); err != nil {
		return adapterError("bad check: %v", err)
	}
	if c.Surface == "aws-chunked" || c.Surface == "event-stream" {
		return signStream(ad, &c, logSigning)
	}
	return ad.Sign(&c, logSigning)
}

func bench(ad Adapter, msg *message) interface{} {
	n := msg.Iterations
	if n <= 0 {
		n = 1
	}
	if msg.Floor != "" {
		if msg.Floor != "hmac-sha256-chain" {
			return Result{Type: "result", ID: msg.ID, Status: "unsupported", Reason: "unknown floor " + msg.Floor}
		}
		start := time.Now()
		for i := 0; i < n; i++ {
			hmacChain()
		}
		return map[string]interface{}{"type": "bench", "id": msg.ID, "iterations": n, "elapsed_ns": time.Since(start).Nanoseconds()}
	}
	var total int64
	for i := 0; i < n; i++ {
		res := signOne(ad, msg.Check, false)
		if res.Status != "signed" {
			res.Type, res.ID = "result", msg.ID
			return res
		}
		total += res.ElapsedNs
	}
	return map[string]interface{}{"type": "bench", "id": msg.ID, "iterations": n, "elapsed_ns": total}
}

var floorStringToSign = []byte("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
	"bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")

// hmacChain is the bare SigV4 HMAC-SHA256 chain with the standard library:
// four HMACs for the signing key, one for the signature.
func hmacChain() string {
	mac := func(key, data []byte) []byte {
		h := hmac.New(sha256.New, key)
		h.Write(data)
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), []byte("20150830"))
	k = mac(k, []byte("us-east-1"))
	k = mac(k, []byte("service"))
	k = mac(k, []byte("aws4_request"))
	return hex.EncodeToString(mac(k, floorStringToSign))
}
