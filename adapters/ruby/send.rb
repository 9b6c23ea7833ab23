# frozen_string_literal: true

# The `send` capability of the Ruby adapter (docs/adapter-protocol.md, docs/wire.md): the check is
# signed exactly as for `sign` (SigharnessRuby.answer), then the signed request goes out with the
# client named, as its users send what aws-sigv4 signed:
#   net-http  Net::HTTP.start(host, port) { |http| http.request(Net::HTTP::Get.new(URI(url), headers), body) }
#             (header-signed and presigned requests; the signed headers applied as the gem's
#             README says: "apply the following hash of headers to your HTTP request")
#   open-uri  URI.open(presigned_url, headers) for a presigned GET (open-uri only GETs; a
#             header-signed request is Net::HTTP's)
# Every request has 5 s open, read and write timeouts.

require 'net/http'
require 'open-uri'
require 'uri'

module SigharnessSend
  CLIENTS = %w[net-http open-uri].freeze
  TIMEOUT = 5
  RECEIVED = 'x-sigharness-received'

  module_function

  # The signed URL with its scheme replaced; an explicit default port 443 becomes 80.
  def wire_url(url, scheme)
    m = %r{\A([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)\z}m.match(url)
    return url unless m

    authority = m[2]
    authority = "#{authority[0...-4]}:80" if m[1].casecmp?('https') && authority.end_with?(':443')
    "#{scheme}://#{authority}#{m[3]}"
  end

  def failure(client, error)
    { 'client' => client, 'error' => "#{error.class}: #{error.message}" }
  end

  def body_of(msg, signed)
    b64 = signed['body_b64'] || msg['check']['request']['body_b64'] || ''
    Base64.strict_decode64(b64)
  end

  # Net::HTTP, with the request class of the method (Net::HTTP::Get, ::Post, ...) or
  # Net::HTTPGenericRequest for another method.
  def net_http(url, signed, body)
    uri = URI(url)
    method = signed['method']
    name = method.capitalize
    klass = Net::HTTP.const_get(name, false) if name.match?(/\A[A-Z][a-z]*\z/) && Net::HTTP.const_defined?(name, false)
    request = if klass.is_a?(Class) && klass < Net::HTTPRequest && klass::METHOD == method
                klass.new(uri)
              else
                Net::HTTPGenericRequest.new(method, !body.empty?, true, uri)
              end
    seen = {}
    signed['headers'].each do |name, value|
      if seen[name.downcase]
        request.add_field(name, value)
      else
        request[name] = value
        seen[name.downcase] = true
      end
    end
    response = Net::HTTP.start(uri.hostname, uri.port, open_timeout: TIMEOUT, read_timeout: TIMEOUT,
                                                       write_timeout: TIMEOUT) do |http|
      http.request(request, body.empty? ? nil : body)
    end
    { 'status' => response.code.to_i, 'received' => response[RECEIVED] }
  end

  # open-uri: URI.open(url, {header => value, ...}); Host comes from the URL.
  def open_uri(url, signed)
    headers = signed['headers'].reject { |name, _| name.casecmp?('host') }.to_h
    URI.open(url, headers.merge(open_timeout: TIMEOUT, read_timeout: TIMEOUT)) do |io|
      io.read
      { 'status' => io.status[0].to_i, 'received' => io.meta[RECEIVED] }
    end
  rescue OpenURI::HTTPError => e
    # raised for a status other than 2xx/3xx: the request was sent and answered all the same
    { 'status' => e.io.status[0].to_i, 'received' => e.io.meta[RECEIVED] }
  end

  def applicable(client, msg, signed)
    return nil unless client == 'open-uri'
    return 'open-uri opens presigned URLs (URI.open); a header-signed request is sent with net-http' if msg['check']['mode'] != 'query'
    return "open-uri only GETs; a presigned #{signed['method']} is sent with net-http" if signed['method'] != 'GET'

    nil
  end

  # The answer to a send message.
  def call(msg)
    client = msg['client']
    unless CLIENTS.include?(client)
      return { 'type' => 'result', 'id' => msg['id'], 'status' => 'error',
               'reason' => "unknown client #{client.inspect} (this adapter sends with: #{CLIENTS.join(', ')})" }
    end
    surface = msg['check']['surface']
    if surface && surface != 'single'
      return { 'type' => 'result', 'id' => msg['id'], 'status' => 'unsupported',
               'reason' => "#{client} sends single signed requests; this check is #{surface}" }
    end
    answer = SigharnessRuby.answer(msg['id'], msg['check'])
    return answer unless answer['status'] == 'signed'

    signed = answer['signed']
    reason = applicable(client, msg, signed)
    return { 'type' => 'result', 'id' => msg['id'], 'status' => 'unsupported', 'reason' => reason } if reason

    url = wire_url(signed['url'], msg['scheme'] || 'http')
    sent = begin
      got = client == 'open-uri' ? open_uri(url, signed) : net_http(url, signed, body_of(msg, signed))
      { 'client' => client }.merge(got.compact)
    rescue StandardError, Timeout::Error => e
      failure(client, e)
    end
    answer.merge('sent' => sent)
  end
end
