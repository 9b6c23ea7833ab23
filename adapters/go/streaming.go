package main

// Event streams (docs/streaming.md) with the AWS SDKs for Go, as their generated event-stream
// clients sign them: the request is signed with X-Amz-Content-Sha256:
// STREAMING-AWS4-HMAC-SHA256-EVENTS, its signature seeds the SDK's StreamSigner, and each message
// is the SDK's own steps (aws-sdk-go-v2 service eventstream writers' signEvent, aws-sdk-go v1
// eventstreamapi.SignEncoder): a message with a ':date' timestamp header, its headers encoded with
// the SDK's eventstream.EncodeHeaders, StreamSigner.GetSignature(headers, payload, date), then
// ':chunk-signature' set and the envelope encoded with the SDK's eventstream Encoder. The only
// difference: the date is the event's time, not time.Now (SignEncoder reads an unexported clock).
// The inner messages are encoded with the same SDK's Encoder.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v2es "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	v1creds "github.com/aws/aws-sdk-go/aws/credentials"
	v1signer "github.com/aws/aws-sdk-go/aws/signer/v4"
	v1es "github.com/aws/aws-sdk-go/private/protocol/eventstream"
)

const eventsPayload = "STREAMING-AWS4-HMAC-SHA256-EVENTS"

// EventStreamSpec is the check's event_stream block.
type EventStreamSpec struct {
	Events []struct {
		Time       string `json:"time"`
		PayloadB64 string `json:"payload_b64"`
		Message    *struct {
			Headers []struct {
				Name  string      `json:"name"`
				Type  string      `json:"type"`
				Value interface{} `json:"value"`
			} `json:"headers"`
			PayloadB64 string `json:"payload_b64"`
		} `json:"message"`
	} `json:"events"`
}

// Why each library has no aws-chunked (or event) signing, checked in the pinned modules.
var streamingWhy = map[string]map[string]string{
	"sdk-v2": {"aws-chunked": "github.com/aws/aws-sdk-go-v2 " + moduleVersion("github.com/aws/aws-sdk-go-v2") + " aws/signer/v4 has no chunk or trailer signer (StreamSigner signs event-stream messages only); the S3 client's aws-chunked encoding lives in the non-importable service/internal/checksum and sends STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
	"sdk-v1": {"aws-chunked": "github.com/aws/aws-sdk-go " + moduleVersion("github.com/aws/aws-sdk-go") + " aws/signer/v4 has no chunk or trailer signer (StreamSigner signs event-stream messages only)"},
	"http-auth": {
		"aws-chunked":  "github.com/aws/smithy-go/aws-http-auth " + moduleVersion("github.com/aws/smithy-go/aws-http-auth") + " sigv4/sigv4a sign HTTP requests only (SignRequest): no chunk, trailer or event-stream signer",
		"event-stream": "github.com/aws/smithy-go/aws-http-auth " + moduleVersion("github.com/aws/smithy-go/aws-http-auth") + " sigv4/sigv4a sign HTTP requests only (SignRequest): no chunk, trailer or event-stream signer",
	},
}

// withStreaming adds the streaming surfaces an adapter serves and why it lacks the others.
func withStreaming(name string, caps map[string]interface{}) map[string]interface{} {
	why, _ := caps["why"].(map[string]string)
	if why == nil {
		why = map[string]string{}
	}
	surfaces := []string{"single"}
	for _, s := range []string{"aws-chunked", "event-stream"} {
		if reason, ok := streamingWhy[name][s]; ok {
			why[s] = reason
		} else {
			surfaces = append(surfaces, s)
		}
	}
	caps["why"], caps["surfaces"] = why, surfaces
	return caps
}

func adapterName(ad Adapter) string {
	for name, a := range adapters {
		if a == ad {
			return name
		}
	}
	return ""
}

// signStream answers an aws-chunked or event-stream check.
func signStream(ad Adapter, c *Check, logSigning bool) Result {
	name := adapterName(ad)
	if reason, ok := streamingWhy[name][c.Surface]; ok || c.EventStream == nil {
		if !ok {
			reason = "no " + c.Surface + " signing here"
		}
		return unsupported("%s", reason)
	}
	seed := *c
	seed.Mode = "header"
	seed.Request.Headers = append([][2]string{}, c.Request.Headers...)
	if name == "sdk-v2" {
		// SignHTTP takes the payload hash; the ContentSHA256Header middleware writes it as the header.
		seed.Context.Payload, seed.Context.ContentSHA256Header = eventsPayload, true
	} else {
		// v1 reads a precomputed X-Amz-Content-Sha256 header as the payload hash.
		seed.Request.Headers = append(seed.Request.Headers, [2]string{"X-Amz-Content-Sha256", eventsPayload})
		seed.Context.Payload, seed.Context.ContentSHA256Header = "body", false
	}
	res := ad.Sign(&seed, logSigning)
	if res.Status != "signed" {
		return res
	}
	prior, err := seedSignature(res.Signed)
	if err != nil {
		return adapterError("%v", err)
	}
	var events []map[string]interface{}
	if name == "sdk-v2" {
		events, err = v2Events(c, prior)
	} else {
		events, err = v1Events(c, prior)
	}
	if err != nil {
		return rejected(err)
	}
	res.Stream = map[string]interface{}{"events": events}
	return res
}

func seedSignature(s *SignedRequest) ([]byte, error) {
	for _, h := range s.Headers {
		if strings.EqualFold(h[0], "Authorization") {
			i := strings.LastIndex(h[1], "Signature=")
			if i >= 0 {
				return hex.DecodeString(strings.TrimSpace(h[1][i+len("Signature="):]))
			}
		}
	}
	return nil, fmt.Errorf("the signed seed request has no Authorization signature")
}

type headerSpec = struct {
	Name  string      `json:"name"`
	Type  string      `json:"type"`
	Value interface{} `json:"value"`
}

// number reads a JSON number (float64) as an integer.
func number(v interface{}) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func uuidBytes(v interface{}) (out [16]byte, err error) {
	raw, err := hex.DecodeString(strings.ReplaceAll(fmt.Sprint(v), "-", ""))
	if err == nil && len(raw) != 16 {
		err = fmt.Errorf("uuid %v is not 16 bytes", v)
	}
	copy(out[:], raw)
	return out, err
}

func v2Value(h headerSpec) (v2es.Value, error) {
	switch h.Type {
	case "bool":
		return v2es.BoolValue(h.Value == true), nil
	case "byte":
		return v2es.Int8Value(number(h.Value)), nil
	case "short":
		return v2es.Int16Value(number(h.Value)), nil
	case "integer":
		return v2es.Int32Value(number(h.Value)), nil
	case "long":
		return v2es.Int64Value(number(h.Value)), nil
	case "bytes":
		b, err := base64.StdEncoding.DecodeString(fmt.Sprint(h.Value))
		return v2es.BytesValue(b), err
	case "string":
		return v2es.StringValue(fmt.Sprint(h.Value)), nil
	case "timestamp":
		return v2es.TimestampValue(time.UnixMilli(number(h.Value)).UTC()), nil
	case "uuid":
		u, err := uuidBytes(h.Value)
		return v2es.UUIDValue(u), err
	}
	return nil, fmt.Errorf("unknown header type %q", h.Type)
}

func v1Value(h headerSpec) (v1es.Value, error) {
	switch h.Type {
	case "bool":
		return v1es.BoolValue(h.Value == true), nil
	case "byte":
		return v1es.Int8Value(number(h.Value)), nil
	case "short":
		return v1es.Int16Value(number(h.Value)), nil
	case "integer":
		return v1es.Int32Value(number(h.Value)), nil
	case "long":
		return v1es.Int64Value(number(h.Value)), nil
	case "bytes":
		b, err := base64.StdEncoding.DecodeString(fmt.Sprint(h.Value))
		return v1es.BytesValue(b), err
	case "string":
		return v1es.StringValue(fmt.Sprint(h.Value)), nil
	case "timestamp":
		return v1es.TimestampValue(time.UnixMilli(number(h.Value)).UTC()), nil
	case "uuid":
		u, err := uuidBytes(h.Value)
		return v1es.UUIDValue(u), err
	}
	return nil, fmt.Errorf("unknown header type %q", h.Type)
}

func v2Events(c *Check, prior []byte) ([]map[string]interface{}, error) {
	creds := aws.Credentials{AccessKeyID: c.Context.AccessKeyID, SecretAccessKey: c.Context.SecretAccessKey, SessionToken: c.token()}
	signer := v4.NewStreamSigner(creds, c.Context.Service, c.Context.Region, prior)
	encoder := v2es.NewEncoder()
	var out []map[string]interface{}
	for _, ev := range c.EventStream.Events {
		payload, err := base64.StdEncoding.DecodeString(ev.PayloadB64)
		if err != nil {
			return nil, err
		}
		if ev.Message != nil { // the inner message, encoded by the SDK's Encoder
			var inner v2es.Message
			for _, h := range ev.Message.Headers {
				v, err := v2Value(h)
				if err != nil {
					return nil, err
				}
				inner.Headers.Set(h.Name, v)
			}
			if inner.Payload, err = base64.StdEncoding.DecodeString(ev.Message.PayloadB64); err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			if err := encoder.Encode(&buf, inner); err != nil {
				return nil, err
			}
			payload = buf.Bytes()
		}
		date, err := time.Parse(time.RFC3339, ev.Time)
		if err != nil {
			return nil, err
		}
		var msg v2es.Message
		msg.Headers.Set(":date", v2es.TimestampValue(date))
		msg.Payload = payload
		var headers bytes.Buffer
		if err := v2es.EncodeHeaders(&headers, msg.Headers); err != nil {
			return nil, err
		}
		sig, err := signer.GetSignature(context.Background(), headers.Bytes(), msg.Payload, date)
		if err != nil {
			return nil, err
		}
		msg.Headers.Set(":chunk-signature", v2es.BytesValue(sig))
		var envelope bytes.Buffer
		if err := encoder.Encode(&envelope, msg); err != nil {
			return nil, err
		}
		out = append(out, map[string]interface{}{"message_b64": base64.StdEncoding.EncodeToString(envelope.Bytes())})
	}
	return out, nil
}

func v1Events(c *Check, prior []byte) ([]map[string]interface{}, error) {
	creds := v1creds.NewStaticCredentials(c.Context.AccessKeyID, c.Context.SecretAccessKey, c.token())
	signer := v1signer.NewStreamSigner(c.Context.Region, c.Context.Service, prior, creds)
	var out []map[string]interface{}
	for _, ev := range c.EventStream.Events {
		payload, err := base64.StdEncoding.DecodeString(ev.PayloadB64)
		if err != nil {
			return nil, err
		}
		if ev.Message != nil {
			var inner v1es.Message
			for _, h := range ev.Message.Headers {
				v, err := v1Value(h)
				if err != nil {
					return nil, err
				}
				inner.Headers.Set(h.Name, v)
			}
			if inner.Payload, err = base64.StdEncoding.DecodeString(ev.Message.PayloadB64); err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			if err := v1es.NewEncoder(&buf).Encode(inner); err != nil {
				return nil, err
			}
			payload = buf.Bytes()
		}
		date, err := time.Parse(time.RFC3339, ev.Time)
		if err != nil {
			return nil, err
		}
		var msg v1es.Message
		msg.Headers.Set(":date", v1es.TimestampValue(date))
		msg.Payload = payload
		var headers bytes.Buffer
		if err := v1es.EncodeHeaders(&headers, msg.Headers); err != nil {
			return nil, err
		}
		sig, err := signer.GetSignature(headers.Bytes(), msg.Payload, date)
		if err != nil {
			return nil, err
		}
		msg.Headers.Set(":chunk-signature", v1es.BytesValue(sig))
		var envelope bytes.Buffer
		if err := v1es.NewEncoder(&envelope).Encode(msg); err != nil {
			return nil, err
		}
		out = append(out, map[string]interface{}{"message_b64": base64.StdEncoding.EncodeToString(envelope.Bytes())})
	}
	return out, nil
}
