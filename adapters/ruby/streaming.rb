# frozen_string_literal: true

# Event-stream signing with the aws-sigv4 gem (Signer#sign_event), as aws-sdk-core's event stream
# encoder uses it: the seed request is signed by #sign_request with X-Amz-Content-Sha256:
# STREAMING-AWS4-HMAC-SHA256-EVENTS, the inner messages are encoded with aws-eventstream's Encoder,
# and each envelope is the Encoder's message of the headers #sign_event returns around the payload.
# The gem has no aws-chunked signing (aws-sigv4 1.5.1: Signer has sign_request, sign_event,
# presign_url only); aws-sdk-s3 sends aws-chunked uploads unsigned (STREAMING-UNSIGNED-PAYLOAD-TRAILER).

require 'aws-eventstream'

module SigharnessRuby
  module Streaming
    EVENTS_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-EVENTS'

    module_function

    # sign_event reads Time.now (its spec stubs it the same way): the clock is the event's time for
    # the length of the call.
    def at_time(time)
      original = Time.method(:now)
      Time.define_singleton_method(:now) { time }
      yield
    ensure
      Time.define_singleton_method(:now, original)
    end

    def header_value(header)
      value = header['value']
      case header['type']
      when 'bool' then return Aws::EventStream::HeaderValue.new(type: value ? 'bool_true' : 'bool_false', value: value)
      when 'bytes' then value = Base64.strict_decode64(value)
      when 'uuid' then value = [value.delete('-')].pack('H*')
      end
      Aws::EventStream::HeaderValue.new(type: header['type'], value: value)
    end

    # The envelope's payload: the inner message as aws-eventstream encodes it (raw bytes when the
    # case gives raw bytes).
    def payload_for(encoder, event)
      message = event['message']
      return Base64.strict_decode64(event['payload_b64']) if message.nil?

      headers = message['headers'].to_h { |h| [h['name'], header_value(h)] }
      encoder.encode(Aws::EventStream::Message.new(headers: headers, payload: StringIO.new(Base64.strict_decode64(message['payload_b64']))))
    end

    def sign(check)
      unless check['surface'] == 'event-stream'
        SigharnessRuby.unsupported("aws-sigv4 #{Aws::Sigv4::VERSION} has no aws-chunked signing (Signer: sign_request, sign_event, presign_url)")
      end
      seed_check = Marshal.load(Marshal.dump(check))
      seed_check['request']['headers'] << ['X-Amz-Content-Sha256', EVENTS_PAYLOAD]
      seed_check['context']['payload'] = 'unsigned' # the header above is the payload hash the gem signs
      seed_check['mode'] = 'header'
      seed = SigharnessRuby.sign(seed_check)
      auth = seed['signed']['headers'].find { |n, _| n.downcase == 'authorization' }
      prior = auth[1].split('Signature=').last
      signer = SigharnessRuby.signer_for(seed_check)
      encoder = Aws::EventStream::Encoder.new
      events = check['event_stream']['events'].map do |event|
        payload = payload_for(encoder, event)
        headers, signature = at_time(Time.iso8601(event['time']).utc) { SigharnessRuby.library { signer.sign_event(prior, payload, encoder) } }
        prior = signature
        envelope = encoder.encode(Aws::EventStream::Message.new(headers: headers, payload: StringIO.new(payload)))
        { 'message_b64' => Base64.strict_encode64(envelope) }
      end
      seed.merge('stream' => { 'events' => events })
    end
  end
end
