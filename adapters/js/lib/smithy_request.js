'use strict';
// The request object the AWS SDK for JavaScript v3 signs: an @smithy/protocol-http HttpRequest
// with the query in the SDK's object form and headers as a plain object. Shared by js-smithy and
// js-sdk-crt (both sign this object).

const { HttpRequest } = require('@smithy/protocol-http');
const { formatUrl } = require('@aws-sdk/util-format-url');
const { UNSIGNED_PAYLOAD } = require('@smithy/signature-v4');

// The header name the SDK's S3 presigner (@aws-sdk/s3-request-presigner) sets to UNSIGNED-PAYLOAD.
const SDK_SHA256_HEADER = 'X-Amz-Content-Sha256';
const { Rejected, Unsupported, describe, hasHeader, repeatedHeaderNames, splitAuthority } = require('./common');

/**
 * decodeURIComponent, the SDK's own query decoding (@smithy/core parseQueryString and parseUrl use
 * it): text with no decoded form ('%zz', '%80') is refused there, so it is `rejected` here too.
 */
function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch (err) {
    throw new Rejected(`${describe(err)} (the SDK decodes query text with decodeURIComponent: ${JSON.stringify(text)})`);
  }
}

/**
 * The raw query as the HttpRequest.query object the SDK's serializers fill in (`query[name] =
 * value`, decoded strings; a repeated name becomes an array; a name without '=' is null, as the
 * QueryParameterBag type and the SDK's own parser have it). Each '&'-separated pair is split at
 * its FIRST '=' only: '?a=b=c' is a: 'b=c'. Empty pairs ('?&&') carry no parameter and are
 * skipped. (@smithy/querystring-parser splits at every '=' and keeps only the first two pieces,
 * which cuts 'b=c' to 'b': not what a caller asked for.)
 */
function queryObject(raw) {
  const query = {};
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decoded(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? null : decoded(pair.slice(eq + 1));
    if (!Object.prototype.hasOwnProperty.call(query, key)) query[key] = value;
    else if (Array.isArray(query[key])) query[key].push(value);
    else query[key] = [query[key], value];
  }
  return query;
}

/**
 * Build the HttpRequest for a check.
 *  - query: the SDK's query object (see queryObject);
 *  - path: the raw path, as the SDK keeps it (request.path);
 *  - headers: the check's headers as an object (name -> value) in their order;
 *  - body: the body bytes when the payload hash is the body's.
 * `unsignedPayloadHeader` (the SDK's way to sign UNSIGNED-PAYLOAD) adds `X-Amz-Content-Sha256:
 * UNSIGNED-PAYLOAD`, as the SDK's S3 presigner does (presign then hoists it into the query).
 */
function buildRequest(check, { what, unsignedPayloadHeader }) {
  const req = check.request;
  const repeated = repeatedHeaderNames(req.headers);
  if (repeated.length) {
    throw new Unsupported(
      `${what} takes headers as a plain object (one value per name); the repeated header ` +
        `${repeated.join(', ')} cannot be expressed`,
    );
  }
  const headers = {};
  for (const [name, value] of req.headers) headers[name] = value;
  if (unsignedPayloadHeader && !hasHeader(req.headers, SDK_SHA256_HEADER)) headers[SDK_SHA256_HEADER] = UNSIGNED_PAYLOAD;
  const query = queryObject(req.query);
  const { hostname, port } = splitAuthority(req.host);
  return new HttpRequest({
    method: req.method,
    protocol: `${req.scheme}:`,
    hostname,
    port,
    path: req.path,
    query,
    headers,
    body: check.body.length ? new Uint8Array(check.body) : undefined,
  });
}

/**
 * Payload mapping shared by the SDK signers, which hash whatever body they are given (or take the
 * value of an x-amz-content-sha256 header that is already there).
 * Returns whether the request needs the SDK's `x-amz-content-sha256: UNSIGNED-PAYLOAD` header.
 */
function payloadPlan(check, what, { headerSigned }) {
  const { payload } = check.context;
  if (payload === 'empty' && check.body.length) {
    throw new Unsupported(`${what} signs the SHA-256 of the body it is given; it has no option to sign the empty-payload hash over a non-empty body`);
  }
  if (payload === 'unsigned') {
    if (check.mode === 'header' && headerSigned && !check.context.content_sha256_header) {
      throw new Unsupported(`${what} selects UNSIGNED-PAYLOAD only through a signed x-amz-content-sha256 header, but the check has content_sha256_header false`);
    }
    return true;
  }
  return false;
}

/** The request as the SDK sends it: the URL from @aws-sdk/util-format-url, headers in object order. */
function signedFromHttpRequest(request) {
  return {
    method: request.method,
    url: formatUrl(request),
    headers: Object.entries(request.headers).map(([n, v]) => [n, String(v)]),
    body_b64: null,
  };
}

module.exports = { buildRequest, payloadPlan, queryObject, signedFromHttpRequest };
