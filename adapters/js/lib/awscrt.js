'use strict';
// js-aws-crt: aws-crt (npm) auth.aws_sign_request(HttpRequest, AwsSigningConfig) with an explicit
// configuration mapped from the check. SigV4 and SigV4A, header and query.

const crt = require('aws-crt');
const { Hash } = require('@smithy/hash-node');
const { installedVersion, libraryCall, librarySync, now } = require('./common');

const { auth, http } = crt;

/**
 * The payload hash handed to the signer. aws-crt (Node) cannot read the body inside
 * aws_sign_request: an InputStream body fails with AWS_IO_STREAM_INVALID_SEEK_POSITION, so its
 * documented way is `signed_body_value`. Empty and unsigned payloads use the library's own
 * constants; a body is hashed with the library's own crypto.hash_sha256. That function crashes the
 * process on binary (typed array) input under Node 20, so it is given the body as a string, which
 * is only possible when the body is valid UTF-8. A body that is not UTF-8 is hashed the way the AWS
 * SDK hashes every body it hands to this same signer (@aws-sdk/signature-v4-crt's getPayloadHash
 * with the SDK's Node.js `sha256`, @smithy/hash-node Hash).
 */
function signedBodyValue(check) {
  const { payload } = check.context;
  if (payload === 'unsigned') return auth.AwsSignedBodyValue.UnsignedPayload;
  if (payload === 'empty' || check.body.length === 0) return auth.AwsSignedBodyValue.EmptySha256;
  const text = check.body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(check.body)) return sdkSha256Hex(check.body);
  return librarySync(() => {
    const digest = crt.crypto.hash_sha256(text);
    return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex');
  });
}

/** The SDK's payload hash over aws-crt: new Hash('sha256').update(body).digest(), hex. */
async function sdkSha256Hex(body) {
  const hash = new Hash('sha256');
  hash.update(new Uint8Array(body));
  return Buffer.from(await hash.digest()).toString('hex');
}

function prepare(check) {
  const ctx = check.context;
  const req = check.request;
  const v4a = check.algorithm === 'sigv4a';
  const query = check.mode === 'query';
  const config = {
    algorithm: v4a ? auth.AwsSigningAlgorithm.SigV4Asymmetric : auth.AwsSigningAlgorithm.SigV4,
    signature_type: query ? auth.AwsSignatureType.HttpRequestViaQueryParams : auth.AwsSignatureType.HttpRequestViaHeaders,
    region: v4a ? ctx.region_set.join(',') : ctx.region,
    service: ctx.service,
    date: check.timestamp,
    should_normalize_uri_path: ctx.normalize_path,
    use_double_uri_encode: ctx.double_encode,
    omit_session_token: ctx.session_token_placement === 'after',
    signed_body_header:
      !query && ctx.content_sha256_header ? auth.AwsSignedBodyHeaderType.XAmzContentSha256 : auth.AwsSignedBodyHeaderType.None,
    ...(query ? { expiration_in_seconds: ctx.expires } : {}),
  };
  const target = req.path + (req.query ? `?${req.query}` : '');

  return async function run() {
    const t0 = now();
    const provider = librarySync(() =>
      check.token
        ? auth.AwsCredentialsProvider.newStatic(ctx.access_key_id, ctx.secret_access_key, check.token)
        : auth.AwsCredentialsProvider.newStatic(ctx.access_key_id, ctx.secret_access_key),
    );
    const request = librarySync(() => new http.HttpRequest(req.method, target, new http.HttpHeaders(req.headers.map(([n, v]) => [n, v]))));
    const signed_body_value = await signedBodyValue(check);
    const out = await libraryCall(() => auth.aws_sign_request(request, { ...config, provider, signed_body_value }));
    const elapsed = now() - t0;
    const headers = [];
    for (const [name, value] of out.headers) headers.push([name, value]);
    return {
      signed: { method: out.method, url: `${req.scheme}://${req.host}${out.path}`, headers, body_b64: null },
      canonical_request: null,
      string_to_sign: null,
      elapsed_ns: Number(elapsed),
    };
  };
}

// Streaming signatures (docs/streaming.md): checked in the installed package's API.
const NO_STREAMING = `aws-crt ${installedVersion('aws-crt')} exports aws_sign_request (an HttpRequest) only: AwsSignatureType has HttpRequestChunk and HttpRequestEvent, but no function signs a chunk, trailer or event with a previous signature`;

module.exports = {
  library: 'aws-crt',
  version: () => installedVersion('aws-crt'),
  capabilities: {
    algorithms: ['sigv4', 'sigv4a'], modes: ['header', 'query'], exposes: [],
    why: { 'aws-chunked': NO_STREAMING, 'event-stream': NO_STREAMING },
  },
  prepare,
};
