'use strict';
// Helpers shared by the project's JavaScript adapters: the adapter SDK (../sdk.js, the same one an
// out-of-tree adapter copies) and what several adapters here share: installed versions, header and
// path rules. Nothing here touches a signature, a canonical request or a URL.

const path = require('node:path');

const sdk = require('../sdk');

const { Rejected, Unsupported, amzDate, describe, libraryCall, librarySync, now, parseCheck } = sdk;

const ADAPTER_DIR = path.resolve(__dirname, '..');

/** The version of an installed package, as Node resolves it from the adapter folder (the SDK's reader). */
function installedVersion(name) {
  return sdk.installedVersion(name, ADAPTER_DIR);
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

/**
 * Run `fn` with the process clock reading `date` (a fake clock, as the SDK's own signer tests pin
 * time with jest.useFakeTimers().setSystemTime): `new Date()` and `Date.now()` give the check's
 * signing time; everything else about Date is untouched. For libraries that read the clock
 * themselves and take no signing date (@aws-sdk/rds-signer, @aws-sdk/dsql-signer).
 */
async function atFixedTime(date, fn) {
  return sdk.withFixedDate(date, fn); // the SDK's fake clock (adapters/js/sdk.js)
}

/** The surface a check is for: single (header or query signing), post-policy, rds, dsql, eks. */
function surfaceOf(check) {
  return check.raw.surface || 'single';
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
