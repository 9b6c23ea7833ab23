'use strict';
// Helpers shared by the JavaScript adapters: reading a check, reporting installed versions,
// timing library calls. Nothing here touches a signature, a canonical request or a URL.

const fs = require('node:fs');
const path = require('node:path');

const ADAPTER_DIR = path.resolve(__dirname, '..');

/** The check asks for something the library cannot be configured to do. */
class Unsupported extends Error {}

/** The library refused the input (threw or returned an error while signing). */
class Rejected extends Error {}

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

/**
 * The version of an installed package, read from the package.json of the copy Node actually
 * resolves from the adapter folder (so it is the version `npm ci` installed from the lock file).
 */
function installedVersion(name) {
  let entry;
  try {
    entry = require.resolve(name, { paths: [ADAPTER_DIR] });
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

/** Lower-cased header names that occur more than once (case-insensitively). */
function repeatedHeaderNames(headers) {
  const seen = new Set();
  const repeated = new Set();
  for (const [name] of headers) {
    const lname = name.toLowerCase();
    if (seen.has(lname)) repeated.add(lname);
    seen.add(lname);
  }
  return [...repeated];
}

/** Whether the header list has a header of that name (case-insensitively). */
function hasHeader(headers, name) {
  const lname = name.toLowerCase();
  return headers.some(([n]) => n.toLowerCase() === lname);
}

/** 'host', 'host:port', '[v6]', '[v6]:port' -> {hostname, port} (port a number or undefined). */
function splitAuthority(authority) {
  let hostname = authority;
  let port;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    hostname = authority.slice(0, end + 1);
    const rest = authority.slice(end + 1);
    if (rest.startsWith(':') && rest.length > 1) port = Number(rest.slice(1));
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon !== -1) {
      hostname = authority.slice(0, colon);
      port = Number(authority.slice(colon + 1));
    }
  }
  return { hostname, port: Number.isFinite(port) ? port : undefined };
}

/** The path rules the AWS specification prescribes for a service (S3: neither). */
function standardPathRules(service) {
  const s3 = service === 's3';
  return { normalize: !s3, double: !s3 };
}

/** Compact SigV4 date-time (YYYYMMDDTHHMMSSZ) of a check's timestamp, for libraries that take a string. */
function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Run `fn` with the process clock reading `date` (a fake clock, as the SDK's own signer tests pin
 * time with jest.useFakeTimers().setSystemTime): `new Date()` and `Date.now()` give the check's
 * signing time; everything else about Date is untouched. For libraries that read the clock
 * themselves and take no signing date (@aws-sdk/rds-signer, @aws-sdk/dsql-signer).
 */
async function atFixedTime(date, fn) {
  const RealDate = Date;
  const fixed = date.getTime();
  class FixedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(fixed);
      else super(...args);
    }

    static now() {
      return fixed;
    }
  }
  global.Date = FixedDate;
  try {
    return await fn();
  } finally {
    global.Date = RealDate;
  }
}

/** The surface a check is for: single (header or query signing), post-policy, rds, dsql, eks. */
function surfaceOf(check) {
  return check.raw.surface || 'single';
}

/** nanoseconds since an arbitrary origin */
function now() {
  return process.hrtime.bigint();
}

module.exports = {
  ADAPTER_DIR,
  Rejected,
  Unsupported,
  amzDate,
  atFixedTime,
  describe,
  hasHeader,
  installedVersion,
  libraryCall,
  librarySync,
  now,
  parseCheck,
  repeatedHeaderNames,
  splitAuthority,
  standardPathRules,
  surfaceOf,
};
