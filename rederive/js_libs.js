// Re-derive the sample's JS-library verdicts by calling each library directly, as its README shows
// (docs/rederivation.md). Reads JSON lines {id, lib, mode, method, url, host, path, query, headers,
// body_b64, ctx}, writes JSON lines {id, signed} or {id, refused}. Run by rederive/js_libs.py with
// NODE_PATH=adapters/js/node_modules.
'use strict';
if (!globalThis.crypto || !globalThis.crypto.subtle) globalThis.crypto = require('node:crypto').webcrypto;
const readline = require('node:readline');

function amzDate(iso) { return new Date(iso).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, ""); }

async function aws4Sign(t) {
  const aws4 = require('aws4');
  const headers = {};
  for (const [n, v] of t.headers) headers[n] = v;
  let path = t.path + (t.query ? `?${t.query}` : '');
  if (t.mode === 'query') path += `${t.query ? '&' : '?'}X-Amz-Expires=${t.ctx.expires}&X-Amz-Date=${amzDate(t.ctx.timestamp)}`;
  else headers['X-Amz-Date'] = amzDate(t.ctx.timestamp);
  const opts = { host: t.host, path, method: t.method, headers, service: t.ctx.service, region: t.ctx.region,
    ...(t.mode === 'query' ? { signQuery: true } : {}), ...(t.body_b64 ? { body: Buffer.from(t.body_b64, 'base64') } : {}) };
  aws4.sign(opts, { accessKeyId: t.ctx.access_key_id, secretAccessKey: t.ctx.secret_access_key });
  return { method: t.method, url: `https://${t.host}${opts.path}`, headers: Object.entries(opts.headers) };
}

async function aws4fetchSign(t) {
  const { AwsV4Signer } = require('aws4fetch');
  let url = t.url;
  if (t.mode === 'query') url += `${t.query ? '&' : '?'}X-Amz-Expires=${t.ctx.expires}`;
  const signer = new AwsV4Signer({ method: t.method, url, headers: t.headers, accessKeyId: t.ctx.access_key_id,
    secretAccessKey: t.ctx.secret_access_key, service: t.ctx.service, region: t.ctx.region, datetime: amzDate(t.ctx.timestamp),
    ...(t.mode === 'query' ? { signQuery: true } : {}), ...(t.body_b64 ? { body: Buffer.from(t.body_b64, 'base64') } : {}) });
  const out = await signer.sign();
  return { method: out.method, url: out.url.toString(), headers: [...out.headers.entries()] };
}

async function smithySign(t) {
  const { SignatureV4 } = require('@smithy/signature-v4');
  const { Hash } = require('@smithy/hash-node');
  const { HttpRequest } = require('@smithy/protocol-http');
  const query = {};
  for (const part of (t.query || '').split('&').filter(Boolean)) {
    const i = part.indexOf('=');
    const k = decodeURIComponent(i < 0 ? part : part.slice(0, i)), v = i < 0 ? null : decodeURIComponent(part.slice(i + 1));
    query[k] = k in query ? [].concat(query[k], v) : v;
  }
  const request = new HttpRequest({ method: t.method, protocol: 'https:', hostname: t.host, path: decodeURIComponent(t.path),
    query, headers: Object.fromEntries(t.headers), body: t.body_b64 ? Buffer.from(t.body_b64, 'base64') : undefined });
  const s3 = t.ctx.service === 's3';
  const signer = new SignatureV4({ credentials: { accessKeyId: t.ctx.access_key_id, secretAccessKey: t.ctx.secret_access_key },
    region: t.ctx.region, service: t.ctx.service, sha256: Hash.bind(null, 'sha256'), uriEscapePath: !s3, applyChecksum: s3 });
  const date = new Date(t.ctx.timestamp);
  const out = t.mode === 'query' ? await signer.presign(request, { signingDate: date, expiresIn: t.ctx.expires })
    : await signer.sign(request, { signingDate: date });
  const qs = Object.entries(out.query || {}).flatMap(([k, v]) => [].concat(v).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)).join('&');
  return { method: out.method, url: `https://${t.host}${t.path}${qs ? '?' + qs : ''}`, headers: Object.entries(out.headers) };
}

async function crtSign(t) {
  const { auth, http } = require('aws-crt');
  const query = t.mode === 'query';
  const config = { algorithm: auth.AwsSigningAlgorithm.SigV4,
    signature_type: query ? auth.AwsSignatureType.HttpRequestViaQueryParams : auth.AwsSignatureType.HttpRequestViaHeaders,
    region: t.ctx.region, service: t.ctx.service, date: new Date(t.ctx.timestamp),
    should_normalize_uri_path: t.ctx.normalize_path, use_double_uri_encode: t.ctx.double_encode,
    signed_body_header: auth.AwsSignedBodyHeaderType.None, ...(query ? { expiration_in_seconds: t.ctx.expires } : {}),
    provider: auth.AwsCredentialsProvider.newStatic(t.ctx.access_key_id, t.ctx.secret_access_key) };
  const request = new http.HttpRequest(t.method, t.path + (t.query ? `?${t.query}` : ''), new http.HttpHeaders(t.headers));
  const out = await auth.aws_sign_request(request, config);
  const headers = [];
  for (const [n, v] of out.headers) headers.push([n, v]);
  return { method: out.method, url: `https://${t.host}${out.path}`, headers };
}

const LIBS = { 'js-aws4': aws4Sign, 'js-aws4fetch': aws4fetchSign, 'js-smithy': smithySign, 'js-aws-crt': crtSign };

(async () => {
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const t = JSON.parse(line);
    try {
      process.stdout.write(JSON.stringify({ id: t.id, signed: await LIBS[t.lib](t) }) + '\n');
    } catch (e) {
      process.stdout.write(JSON.stringify({ id: t.id, refused: `${e && e.name}: ${e && e.message}`.slice(0, 200) }) + '\n');
    }
  }
  process.exit(0);
})();
