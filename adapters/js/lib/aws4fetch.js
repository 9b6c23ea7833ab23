'use strict';
// js-aws4fetch: aws4fetch's AwsV4Signer (what AwsClient.sign / AwsClient.fetch use).

// aws4fetch uses the Web Crypto global (`crypto.subtle`). Node 19+ has it; on Node 18 a user
// provides it from node:crypto, as the adapter does here.
if (!globalThis.crypto || !globalThis.crypto.subtle) globalThis.crypto = require('node:crypto').webcrypto;

const { AwsV4Signer } = require('aws4fetch');
const { Unsupported, amzDate, hasHeader, installedVersion, libraryCall, librarySync, now, standardPathRules } = require('./common');

/**
 * aws4fetch's path rules: it parses the URL with WHATWG URL (which resolves dot segments);
 * for S3 it decodes the path and encodes it once; for other services it collapses repeated
 * slashes and encodes the path once more, or only once with `singleEncode: true`.
 */
function pathOptions(ctx) {
  const std = standardPathRules(ctx.service);
  if (ctx.service === 's3') {
    if (ctx.normalize_path === std.normalize && ctx.double_encode === std.double) return {};
    throw new Unsupported(
      `aws4fetch has fixed S3 path rules (decode, then encode once); normalize_path=${ctx.normalize_path}, double_encode=${ctx.double_encode} cannot be expressed`,
    );
  }
  if (!ctx.normalize_path) {
    throw new Unsupported('aws4fetch always normalizes non-S3 paths (URL parsing and slash collapsing; no option to turn it off)');
  }
  return ctx.double_encode ? {} : { singleEncode: true };
}

function prepare(check) {
  const ctx = check.context;
  const req = check.request;
  if (check.algorithm !== 'sigv4') throw new Unsupported('aws4fetch signs SigV4 only (no SigV4A)');
  const query = check.mode === 'query';
  const s3 = ctx.service === 's3';
  const opts = {};
  if (ctx.session_token_placement === 'after' && check.token) {
    // appendSessionToken adds the token to the URL after signing; in header mode it would leave
    // the token out of the request altogether, so there the token is signed as a header.
    if (query) opts.appendSessionToken = true;
  }
  // Payload: X-Amz-Content-Sha256 header when set; else UNSIGNED-PAYLOAD for S3 (header mode:
  // it adds that header itself; query mode: implied); else the SHA-256 of the body.
  let unsignedHeader = false;
  if (s3) {
    // In header mode aws4fetch declares UNSIGNED-PAYLOAD in the x-amz-content-sha256 header it
    // adds, which a server reads: the library's own choice, shown by the verdict. A presigned URL
    // declares nothing, so there a different pinned payload cannot be expressed.
    if (query && ctx.payload !== 'unsigned') {
      throw new Unsupported(`aws4fetch always signs UNSIGNED-PAYLOAD in S3 presigned URLs; payload=${ctx.payload} cannot be expressed`);
    }
  } else if (ctx.payload === 'unsigned') {
    if (query) {
      throw new Unsupported('aws4fetch signs UNSIGNED-PAYLOAD in presigned URLs only for service s3');
    }
    unsignedHeader = true; // the documented way: an X-Amz-Content-Sha256 header holding the value
  } else if (ctx.payload === 'empty' && check.body.length) {
    throw new Unsupported('aws4fetch signs the SHA-256 of the body; it has no option to sign the empty-payload hash over a non-empty body');
  }
  Object.assign(opts, pathOptions(ctx));
  const datetime = amzDate(check.timestamp);

  return async function run() {
    const headers = req.headers.map(([n, v]) => [n, v]);
    if (unsignedHeader && !hasHeader(req.headers, 'X-Amz-Content-Sha256')) headers.push(['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD']);
    let url = req.url;
    if (query) {
      // aws4fetch's way to set the expiry: an X-Amz-Expires parameter in the URL (it only
      // defaults one, 86400, for S3).
      url += `${req.query ? '&' : '?'}X-Amz-Expires=${ctx.expires}`;
    }
    const seen = { canonical_request: null, string_to_sign: null };
    const t0 = now();
    const signer = librarySync(
      () =>
        new AwsV4Signer({
          method: req.method,
          url,
          headers,
          ...(check.body.length ? { body: new Uint8Array(check.body) } : {}),
          accessKeyId: ctx.access_key_id,
          secretAccessKey: ctx.secret_access_key,
          ...(check.token ? { sessionToken: check.token } : {}),
          service: ctx.service,
          region: ctx.region,
          datetime,
          ...(query ? { signQuery: true } : {}),
          ...opts,
        }),
    );
    // record what sign() itself computes (the signer's own canonicalString / stringToSign)
    const cs = signer.canonicalString;
    const sts = signer.stringToSign;
    signer.canonicalString = async function (...args) {
      const out = await cs.apply(this, args);
      seen.canonical_request = out;
      return out;
    };
    signer.stringToSign = async function (...args) {
      const out = await sts.apply(this, args);
      seen.string_to_sign = out;
      return out;
    };
    const out = await libraryCall(() => signer.sign());
    const elapsed = now() - t0;
    // The Headers object has no Host (aws4fetch deletes it and signs url.host); fetch sends Host
    // from the URL, so the request as sent carries the output URL's host.
    const outHeaders = [['host', out.url.host], ...[...out.headers].map(([n, v]) => [n, v])];
    return {
      signed: { method: out.method, url: out.url.toString(), headers: outHeaders, body_b64: null },
      canonical_request: seen.canonical_request,
      string_to_sign: seen.string_to_sign,
      elapsed_ns: Number(elapsed),
    };
  };
}

module.exports = {
  library: 'aws4fetch',
  version: () => installedVersion('aws4fetch'),
  capabilities: { algorithms: ['sigv4'], modes: ['header', 'query'], exposes: ['canonical_request', 'string_to_sign'] },
  prepare,
};
