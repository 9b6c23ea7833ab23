'use strict';
// js-rds-signer and js-dsql-signer: @aws-sdk/rds-signer Signer({hostname, port, username, region,
// credentials}).getAuthToken() and @aws-sdk/dsql-signer DsqlSigner({hostname, region, credentials,
// expiresIn}).getDbConnectAuthToken() / getDbConnectAdminAuthToken(), as their READMEs show.
// Neither takes a signing date: the clock is pinned with common.atFixedTime while the token is made.

const { Unsupported, atFixedTime, installedVersion, libraryCall, now, surfaceOf } = require('./common');

const RDS_EXPIRES = 900; // Signer.getAuthToken presigns with expiresIn: 900, no option

function credentialsOf(ctx) {
  return {
    accessKeyId: ctx.access_key_id,
    secretAccessKey: ctx.secret_access_key,
    ...(ctx.session_token ? { sessionToken: ctx.session_token } : {}),
  };
}

function timed(check, make) {
  return async function run() {
    const t0 = now();
    const token = await atFixedTime(check.timestamp, () => libraryCall(make));
    return { token, elapsed_ns: Number(now() - t0) };
  };
}

function prepareRds(check) {
  if (surfaceOf(check) !== 'rds') throw new Unsupported('this adapter calls @aws-sdk/rds-signer; it makes RDS tokens only');
  const token = check.raw.token;
  if (token.expires !== RDS_EXPIRES) throw new Unsupported(`Signer.getAuthToken has no expiry option (always ${RDS_EXPIRES} s)`);
  const { Signer } = require('@aws-sdk/rds-signer');
  const signer = new Signer({
    hostname: token.host, port: token.port, username: token.user, region: check.context.region,
    credentials: credentialsOf(check.context),
  });
  return timed(check, () => signer.getAuthToken());
}

function prepareDsql(check) {
  if (surfaceOf(check) !== 'dsql') throw new Unsupported('this adapter calls @aws-sdk/dsql-signer; it makes DSQL tokens only');
  const token = check.raw.token;
  const { DsqlSigner } = require('@aws-sdk/dsql-signer');
  const signer = new DsqlSigner({
    hostname: token.host, region: check.context.region, credentials: credentialsOf(check.context), expiresIn: token.expires,
  });
  const admin = token.action === 'DbConnectAdmin';
  return timed(check, () => (admin ? signer.getDbConnectAdminAuthToken() : signer.getDbConnectAuthToken()));
}

function adapter(library, surface, prepare) {
  return {
    library,
    version: () => installedVersion(library),
    capabilities: { algorithms: ['sigv4'], modes: ['header', 'query'], surfaces: [surface], exposes: [] },
    prepare,
  };
}

module.exports = {
  rds: adapter('@aws-sdk/rds-signer', 'rds', prepareRds),
  dsql: adapter('@aws-sdk/dsql-signer', 'dsql', prepareDsql),
};
