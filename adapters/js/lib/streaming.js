'use strict';
// js-smithy's event streams: @smithy/signature-v4 SignatureV4 as the AWS SDK for JavaScript v3
// uses it for an event stream (@aws-sdk/middleware-eventstream, @aws-sdk/eventstream-handler-node
// EventSigningStream): the request is signed with `x-amz-content-sha256:
// STREAMING-AWS4-HMAC-SHA256-EVENTS`, its signature is the first prior signature, and each message
// `{ headers: { ':date': timestamp }, body }` is signed by signMessage with the prior signature
// and `signingDate` the event's time. The envelope is written by the SDK's EventStreamCodec
// (@smithy/eventstream-codec, not installed here): the answer gives `:date` and the signature, and
// the harness writes the envelope. @smithy/signature-v4 has no aws-chunked chunk signing (the SDK
// sends aws-chunked uploads unsigned, STREAMING-UNSIGNED-PAYLOAD-TRAILER).

const { Unsupported, installedVersion, libraryCall } = require('./common');
const { buildRequest, signedFromHttpRequest } = require('./smithy_request');

const EVENTS_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-EVENTS';
const NO_CHUNKED = `@smithy/signature-v4 ${installedVersion('@smithy/signature-v4')} has no aws-chunked chunk or trailer signing (SignatureV4: sign, presign, signMessage, signEvent, signString); the SDK sends aws-chunked uploads as STREAMING-UNSIGNED-PAYLOAD-TRAILER`;

function prepareStream(check, signer, seen, what) {
  if (check.raw.surface !== 'event-stream') throw new Unsupported(NO_CHUNKED);
  return async function run() {
    const request = buildRequest({ ...check, body: Buffer.alloc(0) }, { what, unsignedPayloadHeader: false });
    request.headers['x-amz-content-sha256'] = EVENTS_PAYLOAD;
    const out = await libraryCall(() => signer.sign(request, { signingDate: check.timestamp }));
    const stages = { canonical_request: seen.canonical_request, string_to_sign: seen.string_to_sign };
    const auth = Object.entries(out.headers).find(([n]) => n.toLowerCase() === 'authorization')[1];
    let priorSignature = auth.split('Signature=').pop();
    const events = [];
    for (const event of check.raw.event_stream.events) {
      const date = new Date(event.time);
      const message = {
        headers: { ':date': { type: 'timestamp', value: date } },
        body: new Uint8Array(Buffer.from(event.payload_b64, 'base64')),
      };
      const signed = await libraryCall(() => signer.signMessage({ message, priorSignature }, { signingDate: date }));
      priorSignature = signed.signature;
      events.push({ date_ms: date.getTime(), signature: signed.signature });
    }
    return { signed: signedFromHttpRequest(out), ...stages, stream: { events } };
  };
}

module.exports = { prepareStream, NO_CHUNKED };
