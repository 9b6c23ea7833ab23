# Re-derive the sample's aws-sigv4 (Ruby) verdicts by calling the gem directly, as its README shows
# (docs/rederivation.md): Aws::Sigv4::Signer#sign_request (the time as an X-Amz-Date header) and
# #presign_url (time:, expires_in:). Reads the JSON lines of rederive/lib_runs.py, writes
# {id, signed} or {id, refused}.
require 'json'
require 'time'
require 'aws-sigv4'

STDIN.each_line do |line|
  next if line.strip.empty?
  t = JSON.parse(line)
  ctx = t['ctx']
  begin
    signer = Aws::Sigv4::Signer.new(service: ctx['service'], region: ctx['region'], access_key_id: ctx['access_key_id'],
                                    secret_access_key: ctx['secret_access_key'], uri_escape_path: ctx['double_encode'],
                                    apply_checksum_header: ctx['service'] == 's3')
    time = Time.parse(ctx['timestamp']).utc
    headers = t['headers'].to_h
    body = t['body_b64'] ? t['body_b64'].unpack1('m') : ''
    if t['mode'] == 'header'
      headers['X-Amz-Date'] = time.strftime('%Y%m%dT%H%M%SZ')
      sig = signer.sign_request(http_method: t['method'], url: t['url'], headers: headers, body: body)
      # apply the returned headers (names in any case replace the request's own)
      merged = headers.reject { |k, _| sig.headers.keys.any? { |n| n.casecmp?(k) } }.merge(sig.headers)
      signed = { 'method' => t['method'], 'url' => t['url'], 'headers' => merged.to_a }
    else
      url = signer.presign_url(http_method: t['method'], url: t['url'], headers: headers, body: body,
                               expires_in: ctx['expires'], time: time)
      signed = { 'method' => t['method'], 'url' => url.to_s, 'headers' => t['headers'] }
    end
    puts JSON.generate('id' => t['id'], 'signed' => signed)
  rescue StandardError => e
    puts JSON.generate('id' => t['id'], 'refused' => "#{e.class}: #{e.message}"[0, 200])
  end
  STDOUT.flush
end
