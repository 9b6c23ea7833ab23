// Re-derive the sample's Go verdicts by calling each library directly, as its documentation shows
// (docs/rederivation.md): aws-sdk-go-v2 v4.Signer (SignHTTP / PresignHTTP, X-Amz-Expires set with
// the snippet of PresignHTTP's documentation), aws-sdk-go v4.Signer (Sign / Presign) and smithy-go
// aws-http-auth sigv4.Signer (SignRequest). Reads the JSON lines of rederive/js_libs.py, writes
// {id, signed} or {id, refused}.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	v1creds "github.com/aws/aws-sdk-go/aws/credentials"
	v1signer "github.com/aws/aws-sdk-go/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/aws"
	v2signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/aws-http-auth/credentials"
	"github.com/aws/smithy-go/aws-http-auth/sigv4"
	v4 "github.com/aws/smithy-go/aws-http-auth/v4"
)

type task struct {
	ID      int         `json:"id"`
	Lib     string      `json:"lib"`
	Mode    string      `json:"mode"`
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Headers [][2]string `json:"headers"`
	BodyB64 *string     `json:"body_b64"`
	Ctx     struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Region          string `json:"region"`
		Service         string `json:"service"`
		Timestamp       string `json:"timestamp"`
		Expires         int64  `json:"expires"`
		DoubleEncode    bool   `json:"double_encode"`
	} `json:"ctx"`
}

func sign(t task) (map[string]any, error) {
	var body []byte
	if t.BodyB64 != nil {
		body, _ = base64.StdEncoding.DecodeString(*t.BodyB64)
	}
	req, err := http.NewRequest(t.Method, t.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for _, h := range t.Headers {
		if http.CanonicalHeaderKey(h[0]) == "Host" {
			req.Host = h[1]
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	when, err := time.Parse(time.RFC3339, t.Ctx.Timestamp)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	s3 := t.Ctx.Service == "s3"
	payloadHash := sum[:]
	if s3 && t.Mode == "query" { // S3 presigned URLs sign UNSIGNED-PAYLOAD (the adapters' payload "auto")
		hash, payloadHash = "UNSIGNED-PAYLOAD", v4.UnsignedPayload()
	}
	if s3 && t.Mode == "header" && req.Header.Get("X-Amz-Content-Sha256") == "" {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	url := ""
	switch t.Lib {
	case "go-sdk-v2":
		signer := v2signer.NewSigner(func(o *v2signer.SignerOptions) { o.DisableURIPathEscaping = !t.Ctx.DoubleEncode })
		creds := aws.Credentials{AccessKeyID: t.Ctx.AccessKeyID, SecretAccessKey: t.Ctx.SecretAccessKey}
		if t.Mode == "header" {
			err = signer.SignHTTP(context.Background(), creds, req, hash, t.Ctx.Service, t.Ctx.Region, when)
			url = req.URL.String()
		} else {
			query := req.URL.Query()
			query.Set("X-Amz-Expires", strconv.FormatInt(t.Ctx.Expires, 10))
			req.URL.RawQuery = query.Encode()
			url, _, err = signer.PresignHTTP(context.Background(), creds, req, hash, t.Ctx.Service, t.Ctx.Region, when)
		}
	case "go-sdk-v1":
		signer := v1signer.NewSigner(v1creds.NewStaticCredentials(t.Ctx.AccessKeyID, t.Ctx.SecretAccessKey, ""),
			func(s *v1signer.Signer) { s.DisableURIPathEscaping = !t.Ctx.DoubleEncode })
		if t.Mode == "header" {
			_, err = signer.Sign(req, bytes.NewReader(body), t.Ctx.Service, t.Ctx.Region, when)
		} else {
			if s3 {
				v1signer.WithUnsignedPayload(signer)
			}
			_, err = signer.Presign(req, bytes.NewReader(body), t.Ctx.Service, t.Ctx.Region, time.Duration(t.Ctx.Expires)*time.Second, when)
		}
		url = req.URL.String()
	case "go-http-auth":
		signer := sigv4.New(func(o *v4.SignerOptions) {
			o.DisableDoublePathEscape = !t.Ctx.DoubleEncode
			o.AddPayloadHashHeader = s3 && t.Mode == "header"
		})
		sigType := v4.SignatureTypeHeader
		if t.Mode == "query" {
			sigType = v4.SignatureTypeQueryString
			query := req.URL.Query()
			query.Set("X-Amz-Expires", strconv.FormatInt(t.Ctx.Expires, 10))
			req.URL.RawQuery = query.Encode()
		}
		err = signer.SignRequest(&sigv4.SignRequestInput{Request: req, PayloadHash: payloadHash,
			Credentials: credentials.Credentials{AccessKeyID: t.Ctx.AccessKeyID, SecretAccessKey: t.Ctx.SecretAccessKey},
			Service: t.Ctx.Service, Region: t.Ctx.Region, Time: when, SignatureType: sigType})
		url = req.URL.String()
	default:
		return nil, fmt.Errorf("unknown library %q", t.Lib)
	}
	if err != nil {
		return nil, err
	}
	headers := [][2]string{{"Host", req.Host}}
	if req.Host == "" {
		headers[0][1] = req.URL.Host
	}
	if req.ContentLength > 0 && req.Header.Get("Content-Length") == "" { // net/http sends it
		headers = append(headers, [2]string{"Content-Length", strconv.FormatInt(req.ContentLength, 10)})
	}
	for name, values := range req.Header {
		if name == "Host" {
			continue
		}
		for _, v := range values {
			headers = append(headers, [2]string{name, v})
		}
	}
	return map[string]any{"method": req.Method, "url": url, "headers": headers}, nil
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var t task
		if err := json.Unmarshal(in.Bytes(), &t); err != nil {
			continue
		}
		signed, err := sign(t)
		if err != nil {
			out.Encode(map[string]any{"id": t.ID, "refused": err.Error()})
			continue
		}
		out.Encode(map[string]any{"id": t.ID, "signed": signed})
	}
}
