package main

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkV2Adapter drives github.com/aws/aws-sdk-go-v2/aws/signer/v4.
type sdkV2Adapter struct{}

func (sdkV2Adapter) Library() string { return "github.com/aws/aws-sdk-go-v2/aws/signer/v4" }
func (sdkV2Adapter) Module() string  { return "github.com/aws/aws-sdk-go-v2" }
func (sdkV2Adapter) Capabilities() map[string]interface{} {
	return map[string]interface{}{
		"algorithms": []string{"sigv4"},
		"modes":      []string{"header", "query"},
		"exposes":    []string{"canonical_request", "string_to_sign"},
		"bench":      true,
		// The SDK's token helpers, looked at and left out (docs/post-policy-and-tokens.md).
		"why": map[string]string{
			"rds": "github.com/aws/aws-sdk-go-v2/feature/rds/auth v1.7.12 BuildAuthToken signs at time.Now().UTC() " +
				"(BuildAuthTokenOptions has no fields): a token for the check's signing time cannot be asked for",
			"dsql": "github.com/aws/aws-sdk-go-v2/feature/dsql/auth (added upstream in aws/aws-sdk-go-v2#2929) is not served " +
				"by the Go module proxy this project builds from (404, looked at 2026-12-01)",
			"post-policy": "github.com/aws/aws-sdk-go-v2/service/s3 v1.114.10 PresignClient.PresignPostObject signs at " +
				"sdk.NowTime() plus the attempt's clock skew (internal/sdk and internal/context, not settable from another module); " +
				"PresignPostOptions (ClientOptions, PostPresigner, Expires, Conditions) has no time, and PostPresigner replaces the signer itself",
			"eks": "aws-sdk-go-v2 has no EKS token generator (aws-cli's and aws-iam-authenticator's are separate programs)",
		},
	}
}

func (sdkV2Adapter) Sign(c *Check, logSigning bool) Result {
	if c.Algorithm != "sigv4" {
		return unsupported("aws-sdk-go-v2 aws/signer/v4 signs SigV4 only; its SigV4A signer lives in the non-importable internal/v4a package")
	}
	// Token after signing (IoT style): the signer's DisableSessionToken leaves the token out of
	// what it signs, and the caller adds it to the signed request, as IoT websocket clients do.
	tokenAfter := c.Context.SessionTokenPlacement == "after" && c.token() != ""
	t, err := signingTime(c)
	if err != nil {
		return adapterError("bad timestamp: %v", err)
	}
	b, err := buildRequest(c, true)
	if err != nil {
		return rejected(err)
	}
	payloadHash, err := payloadHashHex(c, b.body)
	if err != nil {
		return adapterError("%v", err)
	}

	// The signer's own signing log (LogSigning) gives the canonical string
	// and the string to sign; capture it with a Logger.
	var logged []interface{}
	logger := logging.LoggerFunc(func(_ logging.Classification, format string, v ...interface{}) {
		if strings.Contains(format, "CANONICAL STRING") {
			logged = v
		}
	})
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		// false for S3, as the SDK's S3 client configures it.
		o.DisableURIPathEscaping = !c.Context.DoubleEncode
		o.LogSigning = logSigning
		o.Logger = logger
		o.DisableSessionToken = tokenAfter
	})
	creds := aws.Credentials{
		AccessKeyID:     c.Context.AccessKeyID,
		SecretAccessKey: c.Context.SecretAccessKey,
		SessionToken:    c.token(),
		Source:          "sigharness",
	}
	ctx := context.Background()

	var res Result
	switch c.Mode {
	case "header":
		if c.Context.ContentSHA256Header {
			// The SDK's own finalize middleware that S3 clients use to add
			// X-Amz-Content-Sha256 from the payload hash in the context.
			if err := addContentSHA256Header(ctx, b, payloadHash); err != nil {
				return rejected(err)
			}
		}
		start := time.Now()
		err = signer.SignHTTP(ctx, creds, b.req, payloadHash, c.Context.Service, c.Context.Region, t)
		res.ElapsedNs = time.Since(start).Nanoseconds()
		if err != nil {
			return rejected(err)
		}
		if tokenAfter {
			b.req.Header.Set("X-Amz-Security-Token", c.token())
			noteKey(b, "X-Amz-Security-Token")
		}
		res.Signed = b.signed(b.req.URL.String())
	case "query":
		if err := appendExpires(b, c); err != nil {
			return adapterError("%v", err)
		}
		start := time.Now()
		signedURI, _, err := signer.PresignHTTP(ctx, creds, b.req, payloadHash, c.Context.Service, c.Context.Region, t)
		res.ElapsedNs = time.Since(start).Nanoseconds()
		if err != nil {
			return rejected(err)
		}
		if tokenAfter {
			signedURI = appendSessionToken(signedURI, c.token())
		}
		// PresignHTTP does not modify the request: it is sent with the
		// presigned URL and its own headers.
		res.Signed = b.signed(signedURI)
	default:
		return adapterError("unknown mode %q", c.Mode)
	}
	res.Status = "signed"
	if len(logged) >= 2 {
		if cr, ok := logged[0].(string); ok {
			res.CanonicalRequest = strPtr(cr)
		}
		if sts, ok := logged[1].(string); ok {
			res.StringToSign = strPtr(sts)
		}
	}
	return res
}

// appendSessionToken adds the token to a presigned URL after signing, the way
// IoT websocket clients do: one more query parameter, its value escaped with
// net/url's QueryEscape. The signed part of the URL is left as it is.
func appendSessionToken(signedURI, token string) string {
	return signedURI + "&X-Amz-Security-Token=" + url.QueryEscape(token)
}

func addContentSHA256Header(ctx context.Context, b *builtRequest, payloadHash string) error {
	mw := &v4.ContentSHA256Header{}
	next := middleware.FinalizeHandlerFunc(func(context.Context, middleware.FinalizeInput) (middleware.FinalizeOutput, middleware.Metadata, error) {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, nil
	})
	_, _, err := mw.HandleFinalize(v4.SetPayloadHash(ctx, payloadHash),
		middleware.FinalizeInput{Request: &smithyhttp.Request{Request: b.req}}, next)
	if err == nil {
		noteKey(b, "X-Amz-Content-Sha256")
	}
	return err
}

// noteKey records a header name set before signing so the answer lists it
// in the order it was added.
func noteKey(b *builtRequest, key string) {
	for _, k := range b.order {
		if k == key {
			return
		}
	}
	b.order = append(b.order, key)
}
