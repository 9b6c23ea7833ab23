#!/usr/bin/env node
'use strict';
// JSON-lines host for the JavaScript signing-library adapters of sigharness.
//
// Usage: node host.js <./lib/module>   (the manifest names the module; the harness says the
// adapter's name in hello, so no name is repeated here)
//
// One process hosts exactly one adapter; only that adapter's library is loaded. The protocol is
// described in docs/adapter-protocol.md: one JSON object per line on stdin, one answer per line
// on stdout, strictly in order. Logs go to stderr.

const crypto = require('node:crypto');
const readline = require('node:readline');

const PROTOCOL = 1;

// stdout carries protocol lines only: anything a library prints goes to stderr.
const protocolOut = process.stdout.write.bind(process.stdout);
for (const method of ['log', 'info', 'debug']) {
  console[method] = (...args) => console.error(...args);
}

function send(obj) {
  protocolOut(`${JSON.stringify(obj)}\n`);
}

const entry = process.argv[2];
if (!entry || !entry.startsWith('./lib/')) {
  process.stderr.write('usage: node host.js ./lib/<module> (see adapter.yaml)\n');
  process.exit(2);
}

const common = require('./lib/common');
const { Rejected, Unsupported, describe, parseCheck } = common;
const adapter = require(entry);

function hello(msg) {
  return {
    type: 'hello',
    protocol: PROTOCOL,
    ...(msg.adapter ? { name: msg.adapter } : {}),
    language: 'javascript',
    runtime: `node ${process.versions.node}`,
    library: adapter.library,
    library_version: adapter.version(),
    capabilities: { ...adapter.capabilities, bench: true },
  };
}

function failure(id, err) {
  const base = { type: 'result', id };
  if (err instanceof Unsupported) return { ...base, status: 'unsupported', reason: err.message };
  if (err instanceof Rejected) return { ...base, status: 'rejected', reason: err.message };
  process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
  return { ...base, status: 'error', reason: describe(err) };
}

async function sign(msg) {
  try {
    const check = parseCheck(msg.check);
    const run = adapter.prepare(check);
    const out = await run();
    return {
      type: 'result',
      id: msg.id,
      status: 'signed',
      // a signed request, a presigned POST form, or a token (docs/adapter-protocol.md)
      ...(out.signed !== undefined ? { signed: out.signed } : {}),
      ...(out.form !== undefined ? { form: out.form } : {}),
      ...(out.token !== undefined ? { token: out.token } : {}),
      canonical_request: out.canonical_request ?? null,
      string_to_sign: out.string_to_sign ?? null,
      elapsed_ns: out.elapsed_ns,
    };
  } catch (err) {
    return failure(msg.id, err);
  }
}

// The floor: the bare SigV4 HMAC-SHA256 chain (four HMACs for the signing key, one for the
// signature) over fixed inputs, with node:crypto.
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

async function bench(msg) {
  const iterations = Math.max(0, Number(msg.iterations ?? 1) | 0);
  if (msg.floor !== undefined) {
    if (msg.floor !== 'hmac-sha256-chain') {
      return { type: 'result', id: msg.id, status: 'unsupported', reason: `unknown bench floor ${JSON.stringify(msg.floor)}` };
    }
    return { type: 'bench', id: msg.id, iterations, elapsed_ns: hmacChain(iterations) };
  }
  try {
    const check = parseCheck(msg.check);
    const run = adapter.prepare(check); // the signer is built once, as a user reuses it
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await run();
    const elapsed = process.hrtime.bigint() - t0;
    return { type: 'bench', id: msg.id, iterations, elapsed_ns: Number(elapsed) };
  } catch (err) {
    return failure(msg.id, err);
  }
}

async function handle(line) {
  if (!line.trim()) return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (err) {
    process.stderr.write(`not JSON: ${describe(err)}\n`);
    send({ type: 'result', id: null, status: 'error', reason: `line is not JSON: ${describe(err)}` });
    return;
  }
  switch (msg.type) {
    case 'hello':
      send(hello(msg));
      return;
    case 'sign':
      send(await sign(msg));
      return;
    case 'bench':
      send(await bench(msg));
      return;
    case 'bye':
      process.exit(0);
      return;
    default:
      send({ type: 'result', id: msg.id ?? null, status: 'error', reason: `unknown message type ${JSON.stringify(msg.type)}` });
  }
}

// Messages are handled strictly one after the other, in arrival order.
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(() => handle(line)).catch((err) => {
    process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
  });
});
rl.on('close', () => {
  chain.then(() => process.exit(0));
});
