package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/client/metadata"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/request"
	v4 "github.com/aws/aws-sdk-go/aws/signer/v4"
)

// sdkV1Adapter drives github.com/aws/aws-sdk-go/aws/signer/v4 (end of life,
// still widely deployed).
type sdkV1Adapter struct{}

func (sdkV1Adapter) Library() string { return "github.com/aws/aws-sdk-go/aws/signer/v4" }
func (sdkV1Adapter) Module() string  { return "github.com/aws/aws-sdk-go" }
func (sdkV1Adapter) Capabilities() map[string]interface{} {
	return map[string]interface{}{
		"algorithms": []string{"sigv4"},
		"modes":      []string{"header", "query"},
		"exposes":    []string{"canonical_request", "string_to_sign"},
		"bench":      true,
	}
}

func (sdkV1Adapter) Sign(c *Check, logSigning bool) Result {
	if c.Algorithm != "sigv4" {
		return unsupported("aws-sdk-go (v1) aws/signer/v4 signs SigV4 only")
	}
	// Token after signing: no option leaves it out. A presigned URL with a
	// signed token is not the URL asked for (unsupported); in header mode the
	// token is one more signed header, and the verdict shows the difference.
	if c.Mode == "query" && c.Context.SessionTokenPlacement == "after" && c.token() != "" {
		return unsupported("aws-sdk-go (v1) aws/signer/v4 always signs the session token; it has no option to add it after signing")
	}
	t, err := signingTime(c)
	if err != nil {
		return adapterError("bad timestamp: %v", err)
	}
	b, err := buildRequest(c, true)
	if err != nil {
		return rejected(err)
	}

	// The signer logs the canonical string and the string to sign at
	// LogDebugWithSigning; capture the log line.
	var logged string
	creds := credentials.NewStaticCredentials(c.Context.AccessKeyID, c.Context.SecretAccessKey, c.token())
	configure := func(s *v4.Signer) {
		// false for S3, as the SDK's S3 client configures it.
		s.DisableURIPathEscaping = !c.Context.DoubleEncode
		if logSigning {
			s.Debug = aws.LogDebugWithSigning
		}
		s.Logger = aws.LoggerFunc(func(args ...interface{}) {
			msg := fmt.Sprint(args...)
			if strings.Contains(msg, "---[ CANONICAL STRING  ]---") {
				logged = msg
			}
		})
	}
	signer := v4.NewSigner(creds, configure)

	// The body handed to the signer is what it hashes.
	var body io.ReadSeeker
	switch c.Context.Payload {
	case "body":
		body = bytes.NewReader(b.body)
	case "empty":
		// Sign the empty payload: no body for the signer, and keep the
		// request's own body (DisableRequestBodyOverwrite).
		body = nil
		signer.DisableRequestBodyOverwrite = true
	case "unsigned":
		v4.WithUnsignedPayload(signer)
		configure = withUnsignedPayload(configure)
	default:
		return adapterError("unknown context.payload %q", c.Context.Payload)
	}
	// The signer documents a precomputed X-Amz-Content-Sha256 header as the
	// way to give it the payload hash; it then signs that header. The adapter
	// uses it (never with UnsignedPayload, which adds the header itself) when
	//   - header mode asks for the header (content_sha256_header), or
	//   - an S3 presign asks for a payload hash: Presign otherwise always signs
	//     UNSIGNED-PAYLOAD for s3 / s3-object-lambda, and its documentation
	//     names this header as the way to sign the body's hash instead.
	s3Presign := c.Mode == "query" && (c.Context.Service == "s3" || c.Context.Service == "s3-object-lambda")
	if c.Context.Payload != "unsigned" && ((c.Mode == "header" && c.Context.ContentSHA256Header) || s3Presign) {
		hash, err := payloadHashHex(c, b.body)
		if err != nil {
			return adapterError("%v", err)
		}
		b.req.Header.Set("X-Amz-Content-Sha256", hash)
		noteKey(b, "X-Amz-Content-Sha256")
	}

	var exp time.Duration
	if c.Mode == "query" {
		if c.Context.Expires == nil {
			return adapterError("query mode without context.expires")
		}
		exp = time.Duration(*c.Context.Expires) * time.Second
	} else if c.Mode != "header" {
		return adapterError("unknown mode %q", c.Mode)
	}
	var res Result
	if looksSigned(b, c.Mode == "query") {
		// Sign / Presign take such a request for an earlier signature and
		// re-sign it with the signer's clock (time.Now), not the time given.
		// The SDK's own entry point with a clock is SignSDKRequestWithCurrentTime.
		if c.Context.Payload == "empty" && len(b.body) > 0 {
			return unsupported("aws-sdk-go (v1) re-signs a request that already carries a signature (Authorization header or X-Amz-Signature) with its clock; the SDK's entry point that takes a clock (SignSDKRequestWithCurrentTime) hashes the request's body and cannot sign the empty payload over a body")
		}
		if c.Mode == "query" && exp <= 0 {
			return unsupported("aws-sdk-go (v1) re-signs a request that already carries a signature with its clock; the SDK's entry point that takes a clock (SignSDKRequestWithCurrentTime) presigns only with an expiry above 0")
		}
		start := time.Now()
		err = signSDKRequestAt(b, creds, c.Context.Service, c.Context.Region, exp, t, configure)
		res.ElapsedNs = time.Since(start).Nanoseconds()
	} else if c.Mode == "header" {
		start := time.Now()
		_, err = signer.Sign(b.req, body, c.Context.Service, c.Context.Region, t)
		res.ElapsedNs = time.Since(start).Nanoseconds()
	} else {
		start := time.Now()
		_, err = signer.Presign(b.req, body, c.Context.Service, c.Context.Region, exp, t)
		res.ElapsedNs = time.Since(start).Nanoseconds()
	}
	if err != nil {
		return rejected(err)
	}
	res.Status = "signed"
	res.Signed = b.signed(b.req.URL.String())
	if cr, sts, ok := parseV1SigningLog(logged); ok {
		res.CanonicalRequest = strPtr(cr)
		res.StringToSign = strPtr(sts)
	}
	return res
}

// looksSigned is the signer's own test (signingCtx.isRequestSigned) for a
// request it will re-sign with its clock: an Authorization header, or for a
// presign an X-Amz-Signature query parameter.
func looksSigned(b *builtRequest, presign bool) bool {
	if b.req.Header.Get("Authorization") != "" {
		return true
	}
	return presign && b.req.URL.Query().Get("X-Amz-Signature") != ""
}

func withUnsignedPayload(configure func(*v4.Signer)) func(*v4.Signer) {
	return func(s *v4.Signer) {
		configure(s)
		v4.WithUnsignedPayload(s)
	}
}

// signSDKRequestAt signs through the SDK's own request pipeline entry point,
// v4.SignSDKRequestWithCurrentTime, whose clock function is the signer's
// clock: the one time source it uses when it re-signs. An SDK request
// (aws/request.Request) carries the HTTP request, its body, the signing name
// and region of the client and, for a presign, its expiry, as the SDK's
// clients fill them in; the options are the adapter's usual signer settings.
func signSDKRequestAt(b *builtRequest, creds *credentials.Credentials, service, region string, exp time.Duration, t time.Time, configure func(*v4.Signer)) error {
	r := &request.Request{
		Config:      aws.Config{Credentials: creds, Region: aws.String(region)},
		ClientInfo:  metadata.ClientInfo{ServiceName: service, SigningName: service, SigningRegion: region},
		HTTPRequest: b.req,
		ExpireTime:  exp,
	}
	r.SetReaderBody(bytes.NewReader(b.body))
	if r.Error != nil {
		return r.Error
	}
	v4.SignSDKRequestWithCurrentTime(r, func() time.Time { return t }, configure)
	return r.Error
}

// parseV1SigningLog splits the signer's debug message:
//
//	DEBUG: Request Signature:
//	---[ CANONICAL STRING  ]-----------------------------
//	<canonical string>
//	---[ STRING TO SIGN ]--------------------------------
//	<string to sign>[
//	---[ SIGNED URL ]------------------------------------
//	<url>]
//	-----------------------------------------------------
func parseV1SigningLog(msg string) (canonical, stringToSign string, ok bool) {
	const head = "---[ CANONICAL STRING  ]-----------------------------\n"
	const mid = "\n---[ STRING TO SIGN ]--------------------------------\n"
	const url = "\n---[ SIGNED URL ]------------------------------------\n"
	const tail = "\n-----------------------------------------------------"
	i := strings.Index(msg, head)
	if i < 0 {
		return "", "", false
	}
	rest := msg[i+len(head):]
	j := strings.LastIndex(rest, mid)
	if j < 0 {
		return "", "", false
	}
	canonical, rest = rest[:j], rest[j+len(mid):]
	if k := strings.LastIndex(rest, url); k >= 0 {
		rest = rest[:k]
	} else if strings.HasSuffix(rest, tail) {
		rest = rest[:len(rest)-len(tail)]
	} else {
		return "", "", false
	}
	return canonical, rest, true
}
