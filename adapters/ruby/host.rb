# frozen_string_literal: true

# sigharness adapter for the Ruby aws-sigv4 gem (Aws::Sigv4::Signer), Debian package ruby-aws-sigv4.
#
# Speaks the JSON-lines adapter protocol (docs/adapter-protocol.md) on stdin/stdout. It builds the
# arguments of Signer#sign_request / Signer#presign_url the way a user of the gem does and returns
# what the gem returns; it never computes or alters any part of a signature. See docs/adapters-ruby.md.

require 'json'
require 'base64'
require 'openssl'
require 'time'

begin
  require 'aws-sigv4'
rescue LoadError => e
  warn "rb-aws-sigv4: cannot load the aws-sigv4 gem (#{e.message}); " \
       'install it with: apt-get install ruby-aws-sigv4'
  exit 3
end
require_relative 'send'

module SigharnessRuby
  NAME = 'rb-aws-sigv4'
  PROTOCOL = 1

  # An answer the adapter gives instead of a signature.
  class Answer < StandardError
    attr_reader :status

    def initialize(status, reason)
      super(reason)
      @status = status
    end
  end

  module_function

  def unsupported(reason)
    raise Answer.new('unsupported', reason)
  end

  # Runs a call into the gem: whatever it raises is the library refusing the input.
  def library
    yield
  rescue Answer
    raise
  rescue StandardError, ScriptError => e
    raise Answer.new('rejected', "#{e.class}: #{e.message}")
  end

  def now_ns
    Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
  end

  def crt?
    Aws::Sigv4::Signer.respond_to?(:use_crt?) && Aws::Sigv4::Signer.use_crt?
  end

  def hello
    {
      'type' => 'hello', 'protocol' => PROTOCOL, 'name' => NAME, 'language' => 'ruby',
      'runtime' => "ruby #{RUBY_VERSION}", 'library' => 'aws-sigv4',
      'library_version' => Aws::Sigv4::VERSION,
      'capabilities' => {
        'algorithms' => crt? ? %w[sigv4 sigv4a] : %w[sigv4],
        'modes' => %w[header query],
        # sign_request returns both; presign_url returns only the URL.
        'exposes' => crt? ? [] : %w[canonical_request string_to_sign],
        'bench' => true,
        'surfaces' => %w[single event-stream],
        'clients' => SigharnessSend::CLIENTS, # HTTP clients for `send` (send.rb)
        # why an algorithm is missing, for the engine's `unsupported` reason
        'why' => (crt? ? {} : { 'sigv4a' => "aws-sigv4 #{Aws::Sigv4::VERSION} signs SigV4A only with the aws-crt gem, which is not installed" })
          .merge('aws-chunked' => "aws-sigv4 #{Aws::Sigv4::VERSION} has no aws-chunked signing (Signer: sign_request, sign_event, presign_url)")
      }
    }
  end

  # The Signer, configured from the check with the gem's own options.
  def signer_for(check)
    ctx = check['context']
    options = {
      service: ctx['service'],
      region: check['algorithm'] == 'sigv4a' ? ctx['region_set'].join(',') : ctx['region'],
      access_key_id: ctx['access_key_id'],
      secret_access_key: ctx['secret_access_key'],
      session_token: ctx['session_token'],
      uri_escape_path: ctx['double_encode'],
      apply_checksum_header: ctx['content_sha256_header']
    }
    options[:signing_algorithm] = :sigv4a if check['algorithm'] == 'sigv4a'
    token_after = ctx['session_token'] && ctx['session_token_placement'] == 'after'
    if crt?
      # Options the gem only honours on its aws-crt path.
      options[:normalize_path] = ctx['normalize_path']
      options[:omit_session_token] = true if token_after
    end
    begin
      signer = Aws::Sigv4::Signer.new(options)
    rescue ArgumentError => e
      # 1.5.x: "You are attempting to sign a request with sigv4a which requires the `aws-crt` gem."
      unsupported("aws-sigv4 #{Aws::Sigv4::VERSION}: #{e.message}") if check['algorithm'] == 'sigv4a'
      raise Answer.new('rejected', "#{e.class}: #{e.message}")
    end
    # Without omit_session_token a presigned URL carries a signed token, not the URL asked for; in
    # header mode the token is one more signed header, and the verdict shows the difference.
    if token_after && !crt? && check['mode'] == 'query'
      unsupported("aws-sigv4 #{Aws::Sigv4::VERSION} without aws-crt always signs the session token " \
                  '(its omit_session_token option needs the aws-crt gem)')
    end
    signer
  end

  # The headers Hash a user passes to the gem. A Hash cannot hold a header name twice.
  def headers_hash(check)
    names = check['request']['headers'].map { |name, _| name.downcase }
    dup = names.find { |n| names.count(n) > 1 }
    if dup
      unsupported("aws-sigv4 takes headers as a Hash; the repeated header #{dup.inspect} cannot be expressed")
    end
    check['request']['headers'].to_h
  end

  def utf8(text)
    return nil if text.nil?

    text.dup.force_encoding(Encoding::UTF_8).scrub
  end

  def sign(check)
    unless %w[sigv4 sigv4a].include?(check['algorithm'])
      unsupported("unknown algorithm #{check['algorithm'].inspect}")
    end
    ctx = check['context']
    req = check['request']
    body = Base64.strict_decode64(req['body_b64'] || '')
    time = Time.iso8601(ctx['timestamp']).utc
    signer = signer_for(check)
    headers = headers_hash(check)
    case check['mode']
    when 'header' then sign_header(check, signer, headers, body, time)
    when 'query' then sign_query(check, signer, headers, body, time)
    else raise "unknown mode #{check['mode'].inspect}"
    end
  end

  # Signer#sign_request has no time argument: the signing time is the request's X-Amz-Date header
  # (the gem reads it; a case that already carries one keeps its own).
  def sign_header(check, signer, headers, body, time)
    ctx = check['context']
    sent = check['request']['headers'].map(&:dup)
    unless headers.keys.any? { |k| k.downcase == 'x-amz-date' }
      headers['X-Amz-Date'] = time.strftime('%Y%m%dT%H%M%SZ')
      sent << ['X-Amz-Date', headers['X-Amz-Date']]
    end
    args = { http_method: check['request']['method'], url: check['request']['url'], headers: headers }
    case ctx['payload']
    when 'body' then args[:body] = body
    when 'empty' then args[:body] = ''
    when 'unsigned'
      # The gem's way to give the payload hash: an X-Amz-Content-Sha256 header (then the body is
      # not read). aws-sdk-s3 passes UNSIGNED-PAYLOAD this way.
      unless headers.keys.any? { |k| k.downcase == 'x-amz-content-sha256' }
        headers['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD'
        sent << ['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD']
      end
      args[:body] = body
    else raise "unknown payload #{ctx['payload'].inspect}"
    end
    start = now_ns
    signature = library { signer.sign_request(args) }
    elapsed = now_ns - start
    # Apply the returned headers to the request, as the gem's documentation says.
    signature.headers.each do |name, value|
      slot = sent.find { |n, _| n.downcase == name.downcase }
      if slot
        slot[1] = value
      else
        sent << [name, value]
      end
    end
    exposed = !crt?
    {
      'status' => 'signed',
      'signed' => { 'method' => check['request']['method'], 'url' => check['request']['url'],
                    'headers' => sent.map { |n, v| [utf8(n), utf8(v)] }, 'body_b64' => nil },
      'canonical_request' => exposed ? utf8(signature.canonical_request) : nil,
      'string_to_sign' => exposed ? utf8(signature.string_to_sign) : nil,
      'elapsed_ns' => elapsed
    }
  end

  def sign_query(check, signer, headers, body, time)
    ctx = check['context']
    args = { http_method: check['request']['method'], url: check['request']['url'], headers: headers,
             expires_in: ctx['expires'], time: time }
    case ctx['payload']
    when 'body' then args[:body] = body
    when 'empty' then args[:body] = ''
    when 'unsigned' then args[:body_digest] = 'UNSIGNED-PAYLOAD'
    else raise "unknown payload #{ctx['payload'].inspect}"
    end
    start = now_ns
    url = library { signer.presign_url(args) }
    elapsed = now_ns - start
    {
      'status' => 'signed',
      'signed' => { 'method' => check['request']['method'], 'url' => utf8(url.to_s),
                    'headers' => check['request']['headers'], 'body_b64' => nil },
      # presign_url returns only the URL.
      'canonical_request' => nil, 'string_to_sign' => nil,
      'elapsed_ns' => elapsed
    }
  end

  # The adapter this process serves: rb-aws-sigv4 (this module), or the one named on the command line.
  def impl
    @impl ||= if ARGV.first == 'rb-aws-sdk-presigners'
                require_relative 'presigners'
                Presigners.load_libraries
                Presigners
              else
                self
              end
  end

  def answer(id, check)
    if impl.equal?(self) && check['surface'] == 'event-stream'
      return Streaming.sign(check).merge('type' => 'result', 'id' => id)
    end

    impl.sign(check).merge('type' => 'result', 'id' => id)
  rescue Answer => e
    { 'type' => 'result', 'id' => id, 'status' => e.status, 'reason' => e.message }
  rescue StandardError, ScriptError => e
    { 'type' => 'result', 'id' => id, 'status' => 'error',
      'reason' => "adapter: #{e.class}: #{e.message} (#{e.backtrace&.first})" }
  end

  FLOOR_STS = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" \
              'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63'

  # The bare SigV4 HMAC-SHA256 chain with Ruby's standard OpenSSL::HMAC.
  def hmac_chain
    digest = OpenSSL::Digest.new('SHA256')
    k = OpenSSL::HMAC.digest(digest, 'AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830')
    k = OpenSSL::HMAC.digest(digest, k, 'us-east-1')
    k = OpenSSL::HMAC.digest(digest, k, 'service')
    k = OpenSSL::HMAC.digest(digest, k, 'aws4_request')
    OpenSSL::HMAC.hexdigest(digest, k, FLOOR_STS)
  end

  def bench(msg)
    n = [msg['iterations'].to_i, 1].max
    if msg['floor']
      unless msg['floor'] == 'hmac-sha256-chain'
        return { 'type' => 'result', 'id' => msg['id'], 'status' => 'unsupported',
                 'reason' => "unknown floor #{msg['floor']}" }
      end
      start = now_ns
      n.times { hmac_chain }
      return { 'type' => 'bench', 'id' => msg['id'], 'iterations' => n, 'elapsed_ns' => now_ns - start }
    end
    total = 0
    n.times do
      res = answer(msg['id'], msg['check'])
      return res unless res['status'] == 'signed'

      total += res['elapsed_ns']
    end
    { 'type' => 'bench', 'id' => msg['id'], 'iterations' => n, 'elapsed_ns' => total }
  end

  def write(obj)
    $stdout.write(JSON.generate(obj) + "\n")
    $stdout.flush
  end

  def main
    $stdout.sync = true
    $stdin.set_encoding(Encoding::UTF_8)
    $stdin.each_line do |line|
      next if line.strip.empty?

      begin
        msg = JSON.parse(line)
        raise JSON::ParserError, 'not an object' unless msg.is_a?(Hash)
      rescue JSON::ParserError => e
        write('type' => 'result', 'status' => 'error', 'reason' => "adapter could not parse message: #{e.message}")
        next
      end
      case msg['type']
      when 'hello' then write(impl.hello)
      when 'bye' then break
      when 'sign' then write(answer(msg['id'], msg['check']))
      when 'bench' then write(bench(msg))
      when 'send' then write(SigharnessSend.call(msg))
      else write('type' => 'result', 'id' => msg['id'], 'status' => 'error',
                 'reason' => "unknown message type #{msg['type'].inspect}")
      end
    end
    exit 0
  end
end

require_relative 'streaming'

SigharnessRuby.main if $PROGRAM_NAME == __FILE__
