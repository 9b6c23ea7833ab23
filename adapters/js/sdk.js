'use strict';
// The sigharness adapter SDK for JavaScript (Node.js 20+), one file with no dependencies: copy it
// next to an out-of-tree adapter (`sigharness new-adapter NAME --language javascript` does).
//
//   const { serve, Unsupported, libraryCall, signed } = require('./sdk');
//   serve({
//     library: 'my-signer',                       // the npm package (its version is read from it)
//     capabilities: { algorithms: ['sigv4'], modes: ['header'] },
//     async sign(check) {                          // or prepare(check) -> async run(), reused by bench
//       const out = await libraryCall(() => mySigner.sign(...));
//       return signed(out.method, out.url, out.headers);
//     },
//   });
//
// It holds the protocol (docs/adapter-protocol.md): the loop over stdin (one line in, one line out,
// strictly in order; stdout for protocol lines only, console.log goes to stderr), hello (the name
// the harness says is echoed; the version read from the installed package), bye and end of input,
// the refused-vs-error rules (Unsupported -> `unsupported`, Rejected -> `rejected`, anything else
// thrown -> `error` with a one-line reason, the stack on stderr), Date pinning (withFixedDate) and
// the bench hook (the HMAC-SHA256 chain floor, repeated signs). It computes no part of a signature.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const PROTOCOL = 1;
const FLOOR = 'hmac-sha256-chain';

// -- the refused-vs-error rules --------------------------------------------------------------------

/** The library cannot express this check (name the option it lacks and the version looked at). */
class Unsupported extends Error {}

/** The library refused the input (threw or returned an error while signing). */
class Rejected extends Error {}

/** `Name: message`, the message verbatim (the stack goes to stderr, not into the reason). */
function describe(err) {
  if (err instanceof Error) {
    const name = err.name || err.constructor?.name || 'Error';
    return `${name}: ${err.message}`;
  }
  return String(err);
}

/** Run a library call; anything it throws becomes `rejected` with the library's message. */
async function libraryCall(fn) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Unsupported || err instanceof Rejected) throw err;
    throw new Rejected(describe(err));
  }
}

/** Same, for code that has to be synchronous. */
function librarySync(fn) {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Unsupported || err instanceof Rejected) throw err;
    throw new Rejected(describe(err));
  }
}

// -- the check and the answer ----------------------------------------------------------------------

/** The check, with the body decoded and a few derived values. */
function parseCheck(raw) {
  const request = raw.request;
  const context = raw.context;
  const body = Buffer.from(request.body_b64 || '', 'base64');
  return {
    raw,
    id: raw.case,
    mode: raw.mode,
    algorithm: raw.algorithm || 'sigv4',
    request,
    context,
    body,
    timestamp: new Date(context.timestamp),
    token: context.session_token || null,
  };
}

/** Compact SigV4 date-time (YYYYMMDDTHHMMSSZ) of a Date, for libraries that take a string. */
function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** What sign / run returns: the request as the library would send it (and stages it exposes). */
function signed(method, url, headers, bodyB64 = null, stages = {}) {
  const list = Array.isArray(headers) ? headers : Object.entries(headers);
  return {
    signed: { method, url, headers: list.map(([n, v]) => [String(n), String(v)]), body_b64: bodyB64 },
    canonical_request: stages.canonical_request ?? null,
    string_to_sign: stages.string_to_sign ?? null,
  };
}

/** nanoseconds since an arbitrary origin (a BigInt) */
function now() {
  return process.hrtime.bigint();
}

/**
 * The version of an installed package, read from the package.json of the copy Node resolves from
 * `fromDir` (so it is the version `npm ci` installed from the lock file).
 */
function installedVersion(name, fromDir = process.cwd()) {
  let entry;
  try {
    entry = require.resolve(name, { paths: [fromDir] });
  } catch (err) {
    return `not installed (${describe(err)})`;
  }
  let dir = path.dirname(entry);
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch (_) {
        // a nested package.json without a name ({"type": "commonjs"} markers): keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

// -- clock pinning ---------------------------------------------------------------------------------

/**
 * A Date class whose clock reads `when`: `new FixedDate()` and `FixedDate.now()` give the fixed
 * time; every other use (`new FixedDate(x)`, parsing, formatting) is the real Date's.
 */
function fixedDateClass(when) {
  const RealDate = Date;
  const fixed = new RealDate(when).getTime();
  class FixedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(fixed);
      else super(...args);
    }
    static now() {
      return fixed;
    }
  }
  return FixedDate;
}

/**
 * Run `fn` (sync or async) with the global Date pinned to `when`, for a library that reads the
 * clock itself and has no signing-date option; the real Date is back afterwards. Safe because the
 * SDK handles one message at a time.
 */
async function withFixedDate(when, fn) {
  const RealDate = globalThis.Date;
  globalThis.Date = fixedDateClass(when);
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

// -- the bench floor: the bare SigV4 HMAC-SHA256 chain ---------------------------------------------

/** Four HMACs for the signing key, one for the signature, over fixed inputs; elapsed nanoseconds. */
function hmacChain(iterations) {
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  const stringToSign =
    'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n' +
    'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63';
  const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const kDate = hmac(`AWS4${secret}`, '20150830');
    const kRegion = hmac(kDate, 'us-east-1');
    const kService = hmac(kRegion, 'service');
    const kSigning = hmac(kService, 'aws4_request');
    sink ^= hmac(kSigning, stringToSign)[0];
  }
  const elapsed = process.hrtime.bigint() - t0;
  if (sink === 256) process.stderr.write('');
  return Number(elapsed);
}

// -- send: the signed request through the HTTP clients users pair with the signer ------------------
//
// `{"type": "send", ..., "client": NAME, "scheme": "http"}` signs the check as `sign` does, then
// sends the signed request with that client to the signed URL with its scheme replaced (the
// harness maps the signed host names to its capture server; docs/wire.md). The client is used as
// its users call it with a signed request: the URL, the method, the signed headers and the body.
// Every request has a 5 s timeout, so a client that cannot connect never hangs the adapter.

const http = require('node:http');

const SEND_TIMEOUT_MS = 5000;
const DEFAULT_CLIENTS = ['fetch', 'node-https'];
const RECEIVED = 'x-sigharness-received';

/** The signed URL with its scheme replaced; an explicit default port 443 becomes 80. */
function wireUrl(url, scheme) {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([\s\S]*)$/.exec(url);
  if (!m) throw new Unsupported(`the signed URL ${JSON.stringify(url)} has no scheme://authority`);
  let authority = m[2];
  if (m[1].toLowerCase() === 'https' && authority.endsWith(':443')) authority = `${authority.slice(0, -4)}:80`;
  return { url: `${scheme}://${authority}${m[3]}`, authority, target: m[3] || '/' };
}

/** Headers as an object (one key per name, as users write them; a repeated name keeps its values in an array). */
function headerObject(pairs) {
  const out = {};
  const keys = new Map();
  for (const [name, value] of pairs) {
    const key = keys.get(name.toLowerCase());
    if (key === undefined) {
      keys.set(name.toLowerCase(), name);
      out[name] = value;
    } else {
      out[key] = [].concat(out[key], value);
    }
  }
  return out;
}

/** `Name: message`, with the cause a client wraps (undici's `fetch failed` hides it there). */
function sendError(err) {
  let text = describe(err);
  if (err && err.cause) text += ` (${describe(err.cause)})`;
  return text;
}

function receivedFrom(value) {
  if (Array.isArray(value)) value = value[0];
  return value === undefined || value === null ? {} : { received: String(value) };
}

/** The global fetch (undici in Node 20): fetch(url, {method, headers, body}). */
async function sendFetch(req) {
  const res = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    ...(req.body.length ? { body: req.body } : {}),
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
  });
  await res.arrayBuffer();
  return { status: res.status, ...receivedFrom(res.headers.get(RECEIVED)) };
}

/**
 * node:https's request(options) as aws4's README writes it (`https.request(aws4.sign(opts))`),
 * through node:http since the wire scheme is http: host, port, path and the headers object; the
 * body written with end().
 */
function sendNodeHttp(req) {
  const { authority, target } = req.wire;
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority) || [authority, authority, ''];
  const host = m[1].replace(/^\[|\]$/g, '');
  const port = m[2] ? Number(m[2]) : 80;
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port, method: req.method, path: target, headers: headerObject(req.headers), timeout: SEND_TIMEOUT_MS });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${SEND_TIMEOUT_MS} ms`)), SEND_TIMEOUT_MS);
    request.on('timeout', () => request.destroy(new Error(`socket idle for ${SEND_TIMEOUT_MS} ms`)));
    request.on('error', (err) => { clearTimeout(timer); reject(err); });
    request.on('response', (res) => {
      res.resume();
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode, ...receivedFrom(res.headers[RECEIVED]) }); });
      res.on('error', (err) => { clearTimeout(timer); reject(err); });
    });
    if (req.body.length) request.end(req.body);
    else request.end();
  });
}

/** axios, resolved from the adapter's folder: axios.request({url, method, headers, data}). */
async function sendAxios(req) {
  const axios = require(require.resolve('axios', { paths: [process.cwd()] }));
  try {
    const res = await axios.request({
      url: req.url,
      method: req.method,
      headers: headerObject(req.headers),
      ...(req.body.length ? { data: req.body } : {}),
      timeout: SEND_TIMEOUT_MS,
    });
    return { status: res.status, ...receivedFrom(res.headers[RECEIVED]) };
  } catch (err) {
    // axios throws for a status outside 2xx; the request was sent and answered all the same
    if (err && err.response) return { status: err.response.status, ...receivedFrom(err.response.headers[RECEIVED]) };
    throw err;
  }
}

const CLIENTS = { fetch: sendFetch, 'node-https': sendNodeHttp, axios: sendAxios };

/** The clients an adapter offers: its own `capabilities.clients`, else fetch and node-https for a signer of single requests. */
function clientsOf(adapter) {
  const caps = adapter.capabilities || {};
  if (Array.isArray(caps.clients)) return caps.clients.filter((c) => c in CLIENTS);
  if (typeof adapter.verify === 'function') return [];
  if (caps.surfaces && !caps.surfaces.includes('single')) return [];
  return DEFAULT_CLIENTS;
}

/** Send a signed answer (`answer.signed`) with `client`; the `sent` block of the answer. */
async function sendSigned(client, signedRequest, check, scheme) {
  const wire = wireUrl(signedRequest.url, scheme);
  const body = signedRequest.body_b64 !== null && signedRequest.body_b64 !== undefined
    ? Buffer.from(signedRequest.body_b64, 'base64')
    : check.body;
  const req = { url: wire.url, wire, method: signedRequest.method, headers: signedRequest.headers, body };
  try {
    return { client, ...(await CLIENTS[client](req)) };
  } catch (err) {
    return { client, error: sendError(err) };
  }
}

// -- the protocol loop -----------------------------------------------------------------------------

/** The answer for something thrown: unsupported, rejected, or error (stack on stderr). */
function failure(id, err) {
  const base = { type: 'result', id };
  if (err instanceof Unsupported) return { ...base, status: 'unsupported', reason: err.message };
  if (err instanceof Rejected) return { ...base, status: 'rejected', reason: err.message };
  process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
  return { ...base, status: 'error', reason: describe(err) };
}

/**
 * The host for one adapter object: { library, version() or package, capabilities: {algorithms,
 * modes, exposes, why}, and prepare(check) -> async run() or sign(check) }; returns its message handler.
 */
function host(adapter) {
  const prepare = (check) => {
    if (typeof adapter.prepare === 'function') return adapter.prepare(check); // built once, reused by bench
    if (typeof adapter.sign === 'function') return () => adapter.sign(check);
    throw new Unsupported('the adapter has no sign(check) yet');
  };
  const version = () =>
    typeof adapter.version === 'function' ? adapter.version() : installedVersion(adapter.package || adapter.library);

  function hello(msg) {
    const caps = adapter.capabilities || {};
    if (typeof adapter.verify === 'function') {
      // a verifier-kind adapter (adapter.yaml `kind: verifier`): its capabilities as it declares them
      return {
        type: 'hello', protocol: PROTOCOL, ...(msg.adapter ? { name: msg.adapter } : {}), language: 'javascript',
        runtime: `node ${process.versions.node}`, library: adapter.library, library_version: version(), capabilities: caps,
      };
    }
    return {
      type: 'hello',
      protocol: PROTOCOL,
      ...(msg.adapter ? { name: msg.adapter } : {}),
      language: 'javascript',
      runtime: `node ${process.versions.node}`,
      library: adapter.library,
      library_version: version(),
      capabilities: {
        algorithms: caps.algorithms || ['sigv4'],
        modes: caps.modes || ['header', 'query'],
        exposes: caps.exposes || [],
        bench: true,
        ...(caps.why ? { why: caps.why } : {}), // an algorithm or mode left out -> why the library cannot
        ...(caps.surfaces ? { surfaces: caps.surfaces } : {}), // signing surfaces besides single-shot
        ...(clientsOf(adapter).length ? { clients: clientsOf(adapter) } : {}), // HTTP clients for `send`
      },
    };
  }

  async function sign(msg) {
    try {
      const run = await prepare(parseCheck(msg.check));
      const t0 = now();
      const out = await run();
      const elapsed = Number(now() - t0);
      return {
        type: 'result',
        id: msg.id,
        status: 'signed',
        // a signed request, a presigned POST form, or a token (docs/adapter-protocol.md)
        ...(out.signed !== undefined ? { signed: out.signed } : {}),
        ...(out.form !== undefined ? { form: out.form } : {}),
        ...(out.token !== undefined ? { token: out.token } : {}),
        ...(out.stream !== undefined ? { stream: out.stream } : {}), // an aws-chunked or event-stream chain
        canonical_request: out.canonical_request ?? null,
        string_to_sign: out.string_to_sign ?? null,
        elapsed_ns: out.elapsed_ns ?? elapsed,
      };
    } catch (err) {
      return failure(msg.id, err);
    }
  }

  async function send(msg) {
    const clients = clientsOf(adapter);
    if (!clients.includes(msg.client)) {
      return { type: 'result', id: msg.id, status: 'error', reason: `unknown client ${JSON.stringify(msg.client)} (this adapter sends with: ${clients.join(', ') || 'none'})` };
    }
    const surface = msg.check && msg.check.surface;
    if (surface && surface !== 'single') {
      return { type: 'result', id: msg.id, status: 'unsupported', reason: `${msg.client} sends single signed requests; this check is ${surface}` };
    }
    const answer = await sign(msg);
    if (answer.status !== 'signed') return answer;
    if (answer.signed === undefined) {
      return { type: 'result', id: msg.id, status: 'unsupported', reason: `${msg.client} sends a signed request; this check's answer is a ${answer.form ? 'presigned POST form' : 'token'}` };
    }
    try {
      answer.sent = await sendSigned(msg.client, answer.signed, parseCheck(msg.check), msg.scheme || 'http');
    } catch (err) {
      return failure(msg.id, err);
    }
    return answer;
  }

  async function bench(msg) {
    const iterations = Math.max(0, Number(msg.iterations ?? 1) | 0);
    if (msg.floor !== undefined) {
      if (msg.floor !== FLOOR) {
        return { type: 'result', id: msg.id, status: 'unsupported', reason: `unknown bench floor ${JSON.stringify(msg.floor)}` };
      }
      return { type: 'bench', id: msg.id, iterations, elapsed_ns: hmacChain(iterations) };
    }
    try {
      const run = await prepare(parseCheck(msg.check)); // the signer is built once, as a user reuses it
      const t0 = now();
      for (let i = 0; i < iterations; i++) await run();
      return { type: 'bench', id: msg.id, iterations, elapsed_ns: Number(now() - t0) };
    } catch (err) {
      return failure(msg.id, err);
    }
  }

  // A verifier-kind adapter answers `verify` with its library's opinion: accept, reject or n/a.
  function verifyAnswer(msg) {
    if (typeof adapter.verify !== 'function') {
      return { type: 'result', id: msg.id ?? null, status: 'error', reason: 'this adapter is a signer, not a verifier' };
    }
    try {
      return { type: 'opinion', id: msg.id, ...adapter.verify(msg) };
    } catch (err) {
      process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
      return { type: 'opinion', id: msg.id, verdict: 'n/a', reason: `the verifier failed: ${describe(err)}` };
    }
  }

  /** The answer to one message (null for bye). */
  return async function handle(msg) {
    switch (msg.type) {
      case 'verify':
        return verifyAnswer(msg);
      case 'hello':
        return hello(msg);
      case 'sign':
        return sign(msg);
      case 'send':
        return send(msg);
      case 'bench':
        return bench(msg);
      case 'bye':
        return null;
      default:
        return { type: 'result', id: msg.id ?? null, status: 'error', reason: `unknown message type ${JSON.stringify(msg.type)}` };
    }
  };
}

let protocolOut = null;

/**
 * Keep stdout for protocol lines: console.log/info/debug go to stderr from now on. serve() calls
 * it; call it yourself before loading a library that prints while it loads. Returns the writer.
 */
function keepStdoutForProtocol() {
  if (!protocolOut) {
    protocolOut = process.stdout.write.bind(process.stdout);
    for (const method of ['log', 'info', 'debug']) {
      console[method] = (...args) => console.error(...args);
    }
  }
  return protocolOut;
}

/** Answer the harness on stdin/stdout until bye or end of input. */
function serve(adapter, input = process.stdin) {
  keepStdoutForProtocol();
  const send = (obj) => protocolOut(`${JSON.stringify(obj)}\n`);
  const handle = host(adapter);
  const rl = readline.createInterface({ input, crlfDelay: Infinity, terminal: false });
  let chain = Promise.resolve();
  const step = async (line) => {
    if (!line.trim()) return;
    let msg;
    try {
      msg = JSON.parse(line);
      if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) throw new Error('a message is a JSON object');
    } catch (err) {
      process.stderr.write(`not JSON: ${describe(err)}\n`);
      send({ type: 'result', id: null, status: 'error', reason: `line is not JSON: ${describe(err)}` });
      return;
    }
    const answer = await handle(msg);
    if (answer === null) process.exit(0);
    send(answer);
  };
  // Messages are handled strictly one after the other, in arrival order.
  rl.on('line', (line) => {
    chain = chain.then(() => step(line)).catch((err) => {
      process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
    });
  });
  rl.on('close', () => {
    chain.then(() => process.exit(0));
  });
}

module.exports = {
  CLIENTS,
  FLOOR,
  SEND_TIMEOUT_MS,
  PROTOCOL,
  Rejected,
  Unsupported,
  amzDate,
  describe,
  failure,
  fixedDateClass,
  hmacChain,
  host,
  installedVersion,
  keepStdoutForProtocol,
  libraryCall,
  librarySync,
  now,
  parseCheck,
  serve,
  sendSigned,
  signed,
  wireUrl,
  withFixedDate,
};
