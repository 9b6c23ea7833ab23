'use strict';
// sigharness adapter __NAME__, on the adapter SDK (./sdk.js, a copy of the harness's). See README.md.

const { serve, Unsupported, libraryCall, signed, withFixedDate } = require('./sdk'); // eslint-disable-line no-unused-vars
// const yourLibrary = require('your-library');

serve({
  library: '__NAME__', // the npm package you wrap
  version: () => 'template (not filled in)', // delete once `library` is installed: the SDK reads its version
  // what it signs, e.g. algorithms: ['sigv4'], modes: ['header', 'query']; empty: every check is `unsupported`
  capabilities: {
    algorithms: [],
    modes: [],
    exposes: [],
    // why an algorithm or mode is left out (the reason every such check gets)
    why: { sigv4: '__NAME__ is the adapter template, not filled in yet', sigv4a: '__NAME__ is the adapter template, not filled in yet' },
  },
  async sign(check) {
    throw new Unsupported('__NAME__ is the sigharness adapter template, not filled in yet (write sign() in host.js)');
    // Configure the library from the check as a user would, sign at check.timestamp, and return the
    // request as the library would send it. Whatever it throws inside libraryCall() is `rejected`.
    // const out = await libraryCall(() => yourLibrary.sign(check.request, check.context, check.timestamp));
    // return signed(out.method, out.url, out.headers);
  },
});
