'use strict';
// js-sdk-crt: @aws-sdk/signature-v4-crt CrtSignerV4, the signer the AWS SDK for JavaScript v3
// uses for SigV4A (SignatureV4MultiRegion picks it up once the package is loaded), over aws-crt.

const { CrtSignerV4 } = require('@aws-sdk/signature-v4-crt');
const { auth } = require('@aws-sdk/crt-loader');
const { Hash } = require('@smithy/hash-node');
const { Unsupported, installedVersion, libraryCall, now, standardPathRules } = require('./common');
const { buildRequest, payloadPlan, signedFromHttpRequest } = require('./smithy_request');

const sha256 = Hash.bind(null, 'sha256');
const WHAT = '@aws-sdk/signature-v4-crt CrtSignerV4';

/**
 * CrtSignerV4 maps uriEscapePath to the CRT's use_double_uri_encode and never sets
 * should_normalize_uri_path, so the CRT default (normalize) always applies.
 */
function uriEscapePathFor(ctx) {
  const std = standardPathRules(ctx.service);
  const standard = ctx.normalize_path === std.normalize && ctx.double_encode === std.double;
  if (!ctx.normalize_path && !standard) {
    throw new Unsupported(`${WHAT} always normalizes the path (it never sets the CRT's should_normalize_uri_path)`);
  }
  return ctx.double_encode;
}

function prepare(check) {
  const ctx = check.context;
  const v4a = check.algorithm === 'sigv4a';
  const query = check.mode === 'query';
  if (query && ctx.session_token_placement === 'after') {
    throw new Unsupported(`${WHAT} always signs the session token in a presigned URL (it never sets the CRT's omit_session_token)`);
  }
  const uriEscapePath = uriEscapePathFor(ctx);
  // CrtSignerV4 removes x-amz-content-sha256 from the request, hands its value (or the body's
  // hash) to the CRT as signed_body_value and adds the header back only with applyChecksum.
  const unsignedPayloadHeader = payloadPlan(check, WHAT, { headerSigned: false });
  const region = v4a ? ctx.region_set.join(',') : ctx.region;
  const signer = new CrtSignerV4({
    credentials: {
      accessKeyId: ctx.access_key_id,
      secretAccessKey: ctx.secret_access_key,
      ...(check.token ? { sessionToken: check.token } : {}),
    },
    region,
    service: ctx.service,
    sha256,
    applyChecksum: ctx.content_sha256_header,
    uriEscapePath,
    signingAlgorithm: v4a ? auth.AwsSigningAlgorithm.SigV4Asymmetric : auth.AwsSigningAlgorithm.SigV4,
  });

  return async function run() {
    const request = buildRequest(check, { what: WHAT, unsignedPayloadHeader });
    let out;
    const t0 = now();
    if (query) {
      out = await libraryCall(() =>
        signer.presign(request, { signingDate: check.timestamp, expiresIn: ctx.expires, signingRegion: region }),
      );
    } else {
      out = await libraryCall(() => signer.sign(request, { signingDate: check.timestamp, signingRegion: region }));
    }
    const elapsed = now() - t0;
    return {
      signed: signedFromHttpRequest(out),
      canonical_request: null,
      string_to_sign: null,
      elapsed_ns: Number(elapsed),
    };
  };
}

// Streaming signatures (docs/streaming.md): checked in the installed package's API.
const NO_STREAMING = `@aws-sdk/signature-v4-crt ${installedVersion('@aws-sdk/signature-v4-crt')} CrtSignerV4 has sign (an HttpRequest) and presign only: no chunk, trailer or event signing`;

module.exports = {
  library: '@aws-sdk/signature-v4-crt',
  version: () =>
    `${installedVersion('@aws-sdk/signature-v4-crt')} (aws-crt ${installedVersion('aws-crt')}, ` +
    `@smithy/signature-v4 ${installedVersion('@smithy/signature-v4')})`,
  capabilities: {
    algorithms: ['sigv4', 'sigv4a'], modes: ['header', 'query'], exposes: [],
    why: { 'aws-chunked': NO_STREAMING, 'event-stream': NO_STREAMING },
  },
  prepare,
};
