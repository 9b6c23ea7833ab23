'use strict';
// js-smithy: @smithy/signature-v4 SignatureV4 (the AWS SDK for JavaScript v3 signer) for SigV4,
// @smithy/signature-v4a SignatureV4a for SigV4A (header mode only: it has no presign).

const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');
const { Unsupported, installedVersion, libraryCall, now } = require('./common');
const { buildRequest, payloadPlan, signedFromHttpRequest } = require('./smithy_request');
const { prepareStream, NO_CHUNKED } = require('./streaming');

// What the SDK's Node.js runtime config passes as `sha256`.
const sha256 = Hash.bind(null, 'sha256');

let SignatureV4a = null;
function signatureV4a() {
  if (!SignatureV4a) SignatureV4a = require('@smithy/signature-v4a').SignatureV4a;
  return SignatureV4a;
}

/**
 * Record what the signer's own createCanonicalRequest / createStringToSign return while it signs.
 * The wrappers pass arguments and results through untouched.
 */
function recordStages(signer) {
  const seen = { canonical_request: null, string_to_sign: null };
  const cr = signer.createCanonicalRequest;
  const sts = signer.createStringToSign;
  signer.createCanonicalRequest = function (...args) {
    const out = cr.apply(this, args);
    seen.canonical_request = out;
    return out;
  };
  signer.createStringToSign = async function (...args) {
    const out = await sts.apply(this, args);
    seen.string_to_sign = out;
    return out;
  };
  return seen;
}

/** uriEscapePath is the SDK's one switch for both path rules (false for S3). */
function uriEscapePathFor(ctx, what) {
  if (ctx.normalize_path && ctx.double_encode) return true;
  if (!ctx.normalize_path && !ctx.double_encode) return false;
  throw new Unsupported(
    `${what}: uriEscapePath switches path normalization and double encoding together; ` +
      `normalize_path=${ctx.normalize_path} with double_encode=${ctx.double_encode} cannot be expressed`,
  );
}

function prepare(check) {
  const ctx = check.context;
  const v4a = check.algorithm === 'sigv4a';
  const what = v4a ? '@smithy/signature-v4a SignatureV4a' : '@smithy/signature-v4 SignatureV4';
  if (v4a && check.mode === 'query') {
    throw new Unsupported('@smithy/signature-v4a SignatureV4a has no presign (SigV4A query signing)');
  }
  if (check.mode === 'query' && ctx.session_token_placement === 'after') {
    throw new Unsupported(`${what} always signs the session token in a presigned URL (no option to add it after signing)`);
  }
  const uriEscapePath = uriEscapePathFor(ctx, what);
  const unsignedPayloadHeader = payloadPlan(check, what, { headerSigned: true });
  const Signer = v4a ? signatureV4a() : SignatureV4;
  const signer = new Signer({
    credentials: {
      accessKeyId: ctx.access_key_id,
      secretAccessKey: ctx.secret_access_key,
      ...(check.token ? { sessionToken: check.token } : {}),
    },
    region: v4a ? ctx.region_set.join(',') : ctx.region,
    service: ctx.service,
    sha256,
    uriEscapePath,
    applyChecksum: ctx.content_sha256_header,
  });
  const seen = recordStages(signer);
  if (check.raw.surface) return prepareStream(check, signer, seen, what); // aws-chunked, event-stream
  const signingRegion = v4a ? ctx.region_set.join(',') : ctx.region;

  return async function run() {
    const request = buildRequest(check, { what, unsignedPayloadHeader });
    seen.canonical_request = seen.string_to_sign = null;
    let out;
    const t0 = now();
    if (check.mode === 'header') {
      out = await libraryCall(() => signer.sign(request, { signingDate: check.timestamp, signingRegion }));
    } else {
      out = await libraryCall(() =>
        signer.presign(request, { signingDate: check.timestamp, expiresIn: ctx.expires, signingRegion }),
      );
    }
    const elapsed = now() - t0;
    return {
      signed: signedFromHttpRequest(out),
      canonical_request: seen.canonical_request,
      string_to_sign: seen.string_to_sign,
      elapsed_ns: Number(elapsed),
    };
  };
}

module.exports = {
  library: '@smithy/signature-v4',
  version: () =>
    `${installedVersion('@smithy/signature-v4')} (@smithy/signature-v4a ${installedVersion('@smithy/signature-v4a')}, ` +
    `@smithy/core ${installedVersion('@smithy/core')})`,
  capabilities: {
    algorithms: ['sigv4', 'sigv4a'],
    modes: ['header', 'query'],
    exposes: ['canonical_request', 'string_to_sign'],
    surfaces: ['single', 'event-stream'],
    why: { 'aws-chunked': NO_CHUNKED },
  },
  prepare,
};
