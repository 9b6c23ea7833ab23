'use strict';
// sigharness test fixture (tests/test_adapters_js.py): alter the JavaScript signing libraries as
// they are loaded, so that every signature they produce is wrong.
//
// Loaded with NODE_OPTIONS=--require=<this file> (harness `--adapter-env`). It changes nothing in
// the adapters: it wraps, inside each library, the step that turns the secret key into a
// signature, handing it a different secret. If an adapter's checks still passed with this file
// loaded, the adapter would not be reporting the library's signature.
//
// It acts only in the adapter host process (host.js); other Node processes that inherit
// NODE_OPTIONS (npm ci during the build) are left alone.

const Module = require('node:module');
const path = require('node:path');

const SABOTAGE = 'sigharness-sabotage';
const main = process.argv[1] ? path.basename(process.argv[1]) : '';

function note(what) {
  process.stderr.write(`sigharness-sabotage: altered ${what}\n`);
}

const PATCHES = {
  // @smithy/signature-v4 (also the base of SignatureV4a): the signing-key derivation.
  '@smithy/signature-v4': (lib) => {
    const original = lib.SignatureV4.prototype.getSigningKey;
    lib.SignatureV4.prototype.getSigningKey = function (credentials, ...rest) {
      return original.call(this, { ...credentials, secretAccessKey: credentials.secretAccessKey + SABOTAGE }, ...rest);
    };
    note('@smithy/signature-v4 SignatureV4.prototype.getSigningKey');
    // The module's getSigningKey function, which @aws-sdk/s3-presigned-post calls for the POST
    // policy (replaced before that package destructures it at load time).
    const signingKey = lib.getSigningKey;
    lib.getSigningKey = (sha256, credentials, ...rest) =>
      signingKey(sha256, { ...credentials, secretAccessKey: credentials.secretAccessKey + SABOTAGE }, ...rest);
    note('@smithy/signature-v4 getSigningKey');
  },
  // @smithy/signature-v4a: the ECDSA signing step.
  '@smithy/signature-v4a': (lib) => {
    const original = lib.SignatureV4a.prototype.getSignature;
    lib.SignatureV4a.prototype.getSignature = function (privateKey, stringToSign) {
      return original.call(this, privateKey, `${stringToSign}\n${SABOTAGE}`);
    };
    note('@smithy/signature-v4a SignatureV4a.prototype.getSignature');
  },
  // aws4: RequestSigner.prototype.signature derives the key from this.credentials.
  aws4: (lib) => {
    const original = lib.RequestSigner.prototype.signature;
    lib.RequestSigner.prototype.signature = function (...args) {
      const credentials = this.credentials;
      this.credentials = { ...credentials, secretAccessKey: credentials.secretAccessKey + SABOTAGE };
      try {
        return original.apply(this, args);
      } finally {
        this.credentials = credentials;
      }
    };
    note('aws4 RequestSigner.prototype.signature');
  },
  // aws4fetch: AwsV4Signer.prototype.signature derives the key from this.secretAccessKey.
  aws4fetch: (lib) => {
    const original = lib.AwsV4Signer.prototype.signature;
    lib.AwsV4Signer.prototype.signature = async function (...args) {
      const secret = this.secretAccessKey;
      this.secretAccessKey = secret + SABOTAGE;
      try {
        return await original.apply(this, args);
      } finally {
        this.secretAccessKey = secret;
      }
    };
    note('aws4fetch AwsV4Signer.prototype.signature');
  },
  // aws-crt: the static credentials provider handed to the native signer.
  'aws-crt': (lib) => {
    const Provider = lib.auth.AwsCredentialsProvider;
    const original = Provider.newStatic;
    Provider.newStatic = function (accessKey, secretKey, ...rest) {
      return original.call(this, accessKey, secretKey + SABOTAGE, ...rest);
    };
    note('aws-crt auth.AwsCredentialsProvider.newStatic');
  },
  // @aws-sdk/signature-v4-crt: the CRT configuration CrtSignerV4 builds from its credentials.
  '@aws-sdk/signature-v4-crt': (lib) => {
    const proto = lib.CrtSignerV4.prototype;
    const original = proto.options2crtConfigure;
    proto.options2crtConfigure = async function (options, viaHeader, payloadHash, expiresIn, credentials) {
      const creds = credentials ?? (await this.credentialProvider());
      return original.call(this, options, viaHeader, payloadHash, expiresIn, {
        ...creds,
        secretAccessKey: creds.secretAccessKey + SABOTAGE,
      });
    };
    note('@aws-sdk/signature-v4-crt CrtSignerV4.prototype.options2crtConfigure');
  },
};

if (main === 'host.js') {
  const done = new Set();
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    const exports = load.apply(this, arguments);
    const patch = PATCHES[request];
    if (patch && !done.has(request)) {
      done.add(request);
      patch(exports);
    }
    return exports;
  };
}
