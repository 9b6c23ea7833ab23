#!/usr/bin/env node
'use strict';
// JSON-lines host for the project's JavaScript signing-library adapters, on the adapter SDK.
//
// Usage: node host.js <./lib/module>   (the manifest names the module; the harness says the
// adapter's name in hello, so no name is repeated here)
//
// One process hosts exactly one adapter; only that adapter's library is loaded. The protocol loop,
// the refused-vs-error rules and the bench hook are ./sdk.js's, the same file an out-of-tree
// adapter copies (docs/adapter-protocol.md).

const { keepStdoutForProtocol, serve } = require('./sdk');

const entry = process.argv[2];
if (!entry || !entry.startsWith('./lib/')) {
  process.stderr.write('usage: node host.js ./lib/<module> (see adapter.yaml)\n');
  process.exit(2);
}

keepStdoutForProtocol(); // before the library loads: whatever it prints goes to stderr
serve(require(entry));
