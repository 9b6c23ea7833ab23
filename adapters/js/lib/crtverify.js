'use strict';
// oracle-aws-crt: aws-crt (npm) auth.aws_verify_sigv4a_signing as a server-side SigV4A oracle.
//
// aws-crt's only public SigV4A verification takes the request *as signed* plus the signing
// configuration, rebuilds the canonical request itself, compares it with an expected canonical
// request, and checks the ECDSA signature over the string to sign it derives, with the public key
// (x, y) given. So, as a server would: the algorithm, credential scope, date, region set, expiry
// and signature are read from what was received (Authorization header or X-Amz-* parameters); the
// request handed to aws-crt keeps only the headers the signer listed in SignedHeaders (a server
// canonicalizes those and no others); aws-crt regenerates its own X-Amz-* fields from the
// configuration. The expected canonical request and the public key come from the verify message's
// `hints` (the harness's own verifier derives them; docs/oracles.md says what that leaves
// independent: aws-crt's canonicalization of the received request, and its ECDSA check).

const nodeCrypto = require('node:crypto');
const crt = require('aws-crt');
const { installedVersion, librarySync } = require('./common');

const { auth, http } = crt;
const ALGORITHM = 'AWS4-ECDSA-P256-SHA256';
// What aws-crt adds itself when it signs, and refuses to find in the request it is given
// (AWS_AUTH_SIGNING_ILLEGAL_REQUEST_HEADER / _QUERY_PARAM): taken out of the received request.
const ADDED_HEADERS = new Set(['authorization', 'x-amz-date', 'x-amz-region-set', 'x-amz-security-token', 'x-amz-content-sha256']);
const ADDED_PARAMS = new Set(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature',
  'X-Amz-Expires', 'X-Amz-Region-Set', 'X-Amz-Security-Token']);

/** The received path and query without the parameters aws-crt adds, other pairs byte for byte. */
function targetWithoutAddedParams(path, query) {
  const kept = (query ? query.split('&') : []).filter((part) => {
    const eq = part.indexOf('=');
    let name = eq === -1 ? part : part.slice(0, eq);
    try { name = decodeURIComponent(name); } catch (err) { /* keep the raw name */ }
    return !ADDED_PARAMS.has(name);
  });
  return kept.length ? `${path}?${kept.join('&')}` : path;
}

class NotApplicable extends Error {}

function splitUrl(url) {
  const rest = url.includes('://') ? url.slice(url.indexOf('://') + 3) : url;
  const cut = rest.search(/[/?]/);
  const target = cut === -1 ? '/' : rest.slice(cut);
  const q = target.indexOf('?');
  return { target: target.startsWith('?') ? `/${target}` : target, path: q === -1 ? target : target.slice(0, q), query: q === -1 ? '' : target.slice(q + 1) };
}

function queryParams(query) {
  const out = new Map();
  for (const part of query ? query.split('&') : []) {
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? '' : part.slice(eq + 1);
    if (!out.has(name)) out.set(name, decodeURIComponent(value.replace(/\+/g, '%20')));
  }
  return out;
}

function header(headers, name) {
  const found = headers.find(([n]) => n.toLowerCase() === name);
  return found ? found[1].trim() : undefined;
}

/** The auth fields as received: {mode, credential, signedHeaders, signature, date, regionSet, expires, token}. */
function received(request) {
  const { query } = splitUrl(request.url);
  const params = queryParams(query);
  const authorization = header(request.headers, 'authorization');
  if (params.has('X-Amz-Signature') || params.get('X-Amz-Algorithm') === ALGORITHM) {
    if (params.get('X-Amz-Algorithm') !== ALGORITHM) throw new NotApplicable(`${params.get('X-Amz-Algorithm')} is not SigV4A`);
    return {
      mode: 'query', credential: params.get('X-Amz-Credential') || '', signedHeaders: params.get('X-Amz-SignedHeaders') || '',
      signature: params.get('X-Amz-Signature') || '', date: params.get('X-Amz-Date') || '', regionSet: params.get('X-Amz-Region-Set') || '',
      expires: Number(params.get('X-Amz-Expires') || 0), token: params.get('X-Amz-Security-Token'),
    };
  }
  if (!authorization) throw new NotApplicable('no Authorization header and no presigned query: nothing to verify');
  if (!authorization.startsWith(`${ALGORITHM} `)) throw new NotApplicable(`${authorization.split(' ')[0]} is not SigV4A`);
  const fields = {};
  for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq !== -1) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return {
    mode: 'header', credential: fields.Credential || '', signedHeaders: fields.SignedHeaders || '', signature: fields.Signature || '',
    date: header(request.headers, 'x-amz-date') || '', regionSet: header(request.headers, 'x-amz-region-set') || '',
    expires: 0, token: header(request.headers, 'x-amz-security-token'),
  };
}

function amzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

function verify(message) {
  const { request, server, hints } = message;
  let got;
  try {
    got = received(request);
  } catch (err) {
    if (err instanceof NotApplicable) return { verdict: 'n/a', reason: err.message };
    throw err;
  }
  if (!hints || !hints.canonical_request || !hints.sigv4a_public_key) {
    return { verdict: 'n/a', reason: 'aws_verify_sigv4a_signing needs an expected canonical request and the public key (hints), not given' };
  }
  const [accessKey, , service] = got.credential.split('/');
  const credential = server.credentials.find((c) => c.access_key_id === accessKey);
  if (!credential) return { verdict: 'reject', reason: `unknown access key ${JSON.stringify(accessKey)}` };
  const date = amzDate(got.date);
  if (!date) return { verdict: 'reject', reason: `X-Amz-Date ${JSON.stringify(got.date)} is not yyyyMMddTHHmmssZ` };
  const signed = new Set(got.signedHeaders.split(';').filter(Boolean));
  const headers = request.headers.filter(([n]) => signed.has(n.toLowerCase()) && !ADDED_HEADERS.has(n.toLowerCase()));
  const { path, query } = splitUrl(request.url);
  const target = targetWithoutAddedParams(path, query);
  const body = request.body_b64 ? Buffer.from(request.body_b64, 'base64') : Buffer.alloc(0);
  const contentSha = header(request.headers, 'x-amz-content-sha256');
  let signedBodyValue;
  if (contentSha && signed.has('x-amz-content-sha256')) signedBodyValue = contentSha;
  else if (server.s3 && got.mode === 'query') signedBodyValue = auth.AwsSignedBodyValue.UnsignedPayload;
  else signedBodyValue = nodeCrypto.createHash('sha256').update(body).digest('hex'); // the body the server received
  const provider = librarySync(() => (got.token
    ? auth.AwsCredentialsProvider.newStatic(credential.access_key_id, credential.secret_access_key, got.token)
    : auth.AwsCredentialsProvider.newStatic(credential.access_key_id, credential.secret_access_key)));
  const config = {
    algorithm: auth.AwsSigningAlgorithm.SigV4Asymmetric,
    signature_type: got.mode === 'query' ? auth.AwsSignatureType.HttpRequestViaQueryParams : auth.AwsSignatureType.HttpRequestViaHeaders,
    provider,
    region: got.regionSet,
    service,
    date,
    should_normalize_uri_path: server.normalize_path ?? !server.s3,
    use_double_uri_encode: server.double_encode ?? !server.s3,
    // A token the signer added after signing (not in SignedHeaders) is outside the signature.
    // (a presigned URL does not say which parameters were signed: the expected canonical request does)
    omit_session_token: Boolean(got.token) && (got.mode === 'header'
      ? !signed.has('x-amz-security-token') : !hints.canonical_request.includes('X-Amz-Security-Token=')),
    signed_body_value: signedBodyValue,
    signed_body_header: contentSha && signed.has('x-amz-content-sha256') && got.mode === 'header'
      ? auth.AwsSignedBodyHeaderType.XAmzContentSha256 : auth.AwsSignedBodyHeaderType.None,
    ...(got.mode === 'query' ? { expiration_in_seconds: got.expires } : {}),
  };
  const crtRequest = librarySync(() => new http.HttpRequest(request.method, target, new http.HttpHeaders(headers)));
  let ok;
  try {
    ok = librarySync(() => auth.aws_verify_sigv4a_signing(
      crtRequest, config, hints.canonical_request, got.signature, hints.sigv4a_public_key.x, hints.sigv4a_public_key.y));
  } catch (err) {
    const text = String(err && err.message ? err.message : err);
    if (text.includes('aws-c-auth:')) return { verdict: 'reject', reason: text.slice(text.indexOf('aws-c-auth:')) };
    throw err;
  }
  return ok
    ? { verdict: 'accept', reason: '' }
    : { verdict: 'reject', reason: 'aws_verify_sigv4a_signing: the canonical request aws-crt builds from the received request differs from the expected one, or the ECDSA signature does not verify' };
}

module.exports = {
  library: 'aws-crt',
  version: () => installedVersion('aws-crt'),
  capabilities: { kind: 'verifier', algorithms: ['sigv4a'], modes: ['header', 'query'], verifies: ['sigv4a-ecdsa'] },
  verify,
};
