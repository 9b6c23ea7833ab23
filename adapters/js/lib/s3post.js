'use strict';
// js-s3-presigned-post: @aws-sdk/s3-presigned-post createPresignedPost(client, {Bucket, Key,
// Conditions, Fields, Expires}) on an S3Client configured with the check's region and credentials,
// as its README shows. The signing time is the client's own `systemClockOffset` (the SDK's clock
// skew correction): createPresignedPost reads `Date.now() + systemClockOffset`.

const { S3Client } = require('@aws-sdk/client-s3');
const { createPresignedPost } = require('@aws-sdk/s3-presigned-post');
const { Unsupported, installedVersion, libraryCall, now, surfaceOf } = require('./common');

function prepare(check) {
  if (surfaceOf(check) !== 'post-policy') {
    throw new Unsupported('this adapter calls @aws-sdk/s3-presigned-post; it makes presigned POST forms only');
  }
  const ctx = check.context;
  const post = check.raw.post;
  const client = new S3Client({
    region: ctx.region,
    credentials: {
      accessKeyId: ctx.access_key_id,
      secretAccessKey: ctx.secret_access_key,
      ...(ctx.session_token ? { sessionToken: ctx.session_token } : {}),
    },
  });
  const params = {
    Bucket: post.bucket,
    Key: post.key,
    Conditions: post.conditions,
    Fields: Object.fromEntries(post.fields),
    Expires: post.expires,
  };
  return async function run() {
    client.config.systemClockOffset = check.timestamp.getTime() - Date.now();
    const t0 = now();
    const out = await libraryCall(() => createPresignedPost(client, params));
    const elapsed = now() - t0;
    return { form: { url: out.url, fields: Object.entries(out.fields) }, elapsed_ns: Number(elapsed) };
  };
}

module.exports = {
  library: '@aws-sdk/s3-presigned-post',
  version: () => installedVersion('@aws-sdk/s3-presigned-post'),
  capabilities: { algorithms: ['sigv4'], modes: ['header', 'query'], surfaces: ['post-policy'], exposes: [] },
  prepare,
};
