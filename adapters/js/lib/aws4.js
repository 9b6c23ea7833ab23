'use strict';
// js-aws4: the `aws4` package (aws4.sign(requestOptions, credentials) == new RequestSigner(o, c).sign()).

const aws4 = require('aws4');
const { Unsupported, amzDate, hasHeader, installedVersion, librarySync, now, repeatedHeaderNames, standardPathRules } = require('./common');

/**
 * aws4's path rules are chosen by service: S3 neither normalizes nor double-encodes (it decodes
 * and re-encodes each segment once); every other service normalizes and encodes the path once
 * more, or once only with its `doNotEncodePath` request option.
 */
function pathOptions(ctx) {
  const std = standardPathRules(ctx.service);
  const wantsStandard = ctx.normalize_path === std.normalize && ctx.double_encode === std.double;
  if (ctx.service === 's3') {
    if (wantsStandard) return {};
    throw new Unsupported(
      `aws4 has fixed S3 path rules (no normalization, single encoding); normalize_path=${ctx.normalize_path}, double_encode=${ctx.double_encode} cannot be expressed`,
    );
  }
  if (!ctx.normalize_path) {
    throw new Unsupported(`aws4 always normalizes non-S3 paths (no option to turn it off)`);
  }
  return ctx.double_encode ? {} : { doNotEncodePath: true };
}

function prepare(check) {
  const ctx = check.context;
  const req = check.request;
  if (check.algorithm !== 'sigv4') throw new Unsupported('aws4 signs SigV4 only (no SigV4A)');
  const query = check.mode === 'query';
  if (query && ctx.session_token_placement === 'after') {
    throw new Unsupported('aws4 always signs the session token in a presigned URL (no option to add it after signing)');
  }
  const s3 = ctx.service === 's3';
  // Payload: aws4 signs X-Amz-Content-Sha256 when that header is set, UNSIGNED-PAYLOAD for S3
  // presigned URLs, and otherwise the SHA-256 of the body.
  let unsignedHeader = false;
  if (query && s3) {
    if (ctx.payload !== 'unsigned') {
      throw new Unsupported(`aws4 always signs UNSIGNED-PAYLOAD in S3 presigned URLs; payload=${ctx.payload} cannot be expressed`);
    }
  } else if (ctx.payload === 'unsigned') {
    if (query) throw new Unsupported('aws4 signs UNSIGNED-PAYLOAD in presigned URLs only for service s3');
    unsignedHeader = true; // the documented way: an X-Amz-Content-Sha256 header holding the value
  } else if (ctx.payload === 'empty' && check.body.length) {
    throw new Unsupported('aws4 signs the SHA-256 of the body; it has no option to sign the empty-payload hash over a non-empty body');
  }
  const repeated = repeatedHeaderNames(req.headers);
  if (repeated.length) {
    throw new Unsupported(`aws4 takes headers as a plain object (one value per name); the repeated header ${repeated.join(', ')} cannot be expressed`);
  }
  const pathOpts = pathOptions(ctx);
  const credentials = {
    accessKeyId: ctx.access_key_id,
    secretAccessKey: ctx.secret_access_key,
    ...(check.token ? { sessionToken: check.token } : {}),
  };
  const datetime = amzDate(check.timestamp);

  return async function run() {
    const headers = {};
    for (const [name, value] of req.headers) headers[name] = value;
    if (unsignedHeader && !hasHeader(req.headers, 'X-Amz-Content-Sha256')) headers['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD';
    let path = req.path + (req.query ? `?${req.query}` : '');
    if (query) {
      // aws4's documented way to set the expiry (path: '/?X-Amz-Expires=12345'); the signing time
      // is taken from an X-Amz-Date query parameter the same way (RequestSigner.prepareRequest).
      path += `${req.query ? '&' : '?'}X-Amz-Expires=${ctx.expires}&X-Amz-Date=${datetime}`;
    } else {
      // aws4's documented way to fix the signing time in header mode: an X-Amz-Date header.
      headers['X-Amz-Date'] = datetime;
    }
    const opts = {
      host: req.host,
      method: req.method,
      path,
      headers,
      service: ctx.service,
      region: ctx.region,
      ...(check.body.length ? { body: Buffer.from(check.body) } : {}),
      ...(query ? { signQuery: true } : {}),
      ...pathOpts,
    };
    const seen = { canonical_request: null, string_to_sign: null };
    const t0 = now();
    const signer = librarySync(() => new aws4.RequestSigner(opts, credentials));
    // record what sign() itself computes (the library's own canonicalString / stringToSign)
    const cs = signer.canonicalString;
    const sts = signer.stringToSign;
    signer.canonicalString = function (...args) {
      const out = cs.apply(this, args);
      seen.canonical_request = out;
      return out;
    };
    signer.stringToSign = function (...args) {
      const out = sts.apply(this, args);
      seen.string_to_sign = out;
      return out;
    };
    const out = librarySync(() => signer.sign());
    const elapsed = now() - t0;
    const outHeaders = Object.entries(out.headers).map(([n, v]) => [n, String(v)]);
    return {
      signed: {
        method: out.method,
        url: `${req.scheme}://${out.host}${out.path}`,
        headers: outHeaders,
        body_b64: null,
      },
      canonical_request: seen.canonical_request,
      string_to_sign: seen.string_to_sign,
      elapsed_ns: Number(elapsed),
    };
  };
}

module.exports = {
  library: 'aws4',
  version: () => installedVersion('aws4'),
  capabilities: {
    algorithms: ['sigv4'], modes: ['header', 'query'], exposes: ['canonical_request', 'string_to_sign'],
    clients: ['fetch', 'node-https', 'axios'], // aws4's users send with https.request, fetch, or axios (aws4-axios)
  },
  prepare,
};
