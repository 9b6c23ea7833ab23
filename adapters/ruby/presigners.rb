# frozen_string_literal: true

# rb-aws-sdk-presigners: the presigning helpers of the AWS SDK for Ruby as Debian packages them
# (ruby-aws-sdk-s3, ruby-aws-sdk-core), called as their documentation shows:
#
# * post-policy: Aws::S3::PresignedPost.new(credentials, region, bucket, key:, <field options>,
#   signature_expiration:).fields (aws-sdk-s3). Conditions are expressed with the class's options:
#   an eq condition on a field is that field's option (acl:, content_type:, success_action_status:,
#   metadata:, ...), which sets the field and its condition; starts-with is <field>_starts_with: (or
#   allow_any: for an empty prefix); content-length-range is content_length_range: min..max. A
#   condition the class has no option for is `unsupported`.
# * eks: Aws::STS::Presigner.new(client:).get_caller_identity_presigned_url(headers:
#   {'X-K8s-Aws-Id' => id}) (aws-sdk-core), then the framing its documentation gives,
#   "k8s-aws-v1." + Base64.urlsafe_encode64(url).chomp("==").
#
# Neither takes a signing time: both read Time.now. The clock is pinned while the library runs, as
# the SDK's own specs pin it (allow(Time).to receive(:now)); nothing of a form or token is computed
# here. See docs/post-policy-and-tokens.md.

require 'base64'
require 'time'

module SigharnessRuby
  module Presigners
    NAME = 'rb-aws-sdk-presigners'
    K8S_HEADER = 'X-K8s-Aws-Id' # the name in Presigner's documentation
    EKS_PREFIX = 'k8s-aws-v1.'
    STS_EXPIRES = 900 # presign_url's default; get_caller_identity_presigned_url passes no expires_in

    # Form field name (lower case) -> PresignedPost option setting the field and an eq condition.
    FIELD_OPTIONS = {
      'acl' => :acl, 'cache-control' => :cache_control, 'content-type' => :content_type,
      'content-disposition' => :content_disposition, 'content-encoding' => :content_encoding,
      'success_action_redirect' => :success_action_redirect, 'success_action_status' => :success_action_status,
      'x-amz-storage-class' => :storage_class, 'x-amz-website-redirect-location' => :website_redirect_location,
      'x-amz-server-side-encryption' => :server_side_encryption
    }.freeze
    # The options that also have a _starts_with form (define_field ... starts_with: true).
    STARTS_WITH = %i[acl cache_control content_type content_disposition content_encoding success_action_redirect].freeze

    module_function

    def load_libraries
      require 'aws-sdk-core'
      require 'aws-sdk-s3'
    rescue LoadError => e
      warn "#{NAME}: cannot load the AWS SDK for Ruby (#{e.message}); " \
           'install it with: apt-get install ruby-aws-sdk-s3 ruby-aws-sdk-core'
      exit 3
    end

    def hello
      {
        'type' => 'hello', 'protocol' => PROTOCOL, 'name' => NAME, 'language' => 'ruby',
        'runtime' => "ruby #{RUBY_VERSION}", 'library' => 'aws-sdk-s3, aws-sdk-core',
        'library_version' => "aws-sdk-s3 #{Aws::S3::GEM_VERSION}, aws-sdk-core #{Aws::CORE_GEM_VERSION}",
        'capabilities' => {
          'algorithms' => %w[sigv4], 'modes' => %w[header query], 'surfaces' => %w[post-policy eks],
          'exposes' => [], 'bench' => false,
          'why' => {
            'single' => 'this adapter calls the SDK presigners; single-shot signing is rb-aws-sigv4',
            'rds' => 'Aws::RDS::AuthTokenGenerator is in the aws-sdk-rds gem, which Debian does not package ' \
                     '(apt-cache search ruby-aws-sdk: core, s3, kms, cloudformation)',
            'dsql' => 'Aws::DSQL::AuthTokenGenerator is in the aws-sdk-dsql gem, which Debian does not package'
          }
        }
      }
    end

    # Runs the library with Time.now answering `time` (restored afterwards).
    def at_fixed_time(time)
      klass = Time.singleton_class
      klass.send(:alias_method, :__sigharness_now, :now)
      klass.send(:define_method, :now) { time }
      begin
        yield
      ensure
        klass.send(:alias_method, :now, :__sigharness_now)
        klass.send(:remove_method, :__sigharness_now)
      end
    end

    def credentials(ctx)
      Aws::Credentials.new(ctx['access_key_id'], ctx['secret_access_key'], ctx['session_token'])
    end

    def sign(check)
      case check['surface']
      when 'post-policy' then sign_post(check)
      when 'eks' then sign_eks(check)
      else SigharnessRuby.unsupported("no Ruby SDK presigner for surface #{check['surface'].inspect}")
      end
    end

    # One case condition as PresignedPost options (merged into `options`).
    def add_condition(options, condition, values)
      if condition.is_a?(Hash) && condition.size == 1
        name, value = condition.first
        return add_eq(options, name, value.to_s)
      end
      unless condition.is_a?(Array) && condition.size == 3
        SigharnessRuby.unsupported("PresignedPost has no option for the condition #{condition.inspect}")
      end
      op, name, value = condition
      if op == 'content-length-range'
        return options[:content_length_range] = (Integer(name)..Integer(value))
      end

      field = name.to_s.delete_prefix('$')
      case op
      when 'eq' then add_eq(options, field, value.to_s)
      when 'starts-with' then add_starts_with(options, field, value.to_s, values)
      else SigharnessRuby.unsupported("PresignedPost has no option for the condition #{condition.inspect}")
      end
    end

    def add_eq(options, field, value)
      lower = field.downcase
      if lower == 'key'
        # key: turns a value ending in ${filename} into starts-with; an exact key is the key option.
        SigharnessRuby.unsupported("PresignedPost's key option makes #{value.inspect} a starts-with condition") if value.end_with?('${filename}')
        return
      end
      if lower.start_with?('x-amz-meta-')
        (options[:metadata] ||= {})[field[11..]] = value
      elsif FIELD_OPTIONS.key?(lower)
        options[FIELD_OPTIONS[lower]] = value
      else
        SigharnessRuby.unsupported("PresignedPost has no option for an eq condition on #{field.inspect}")
      end
    end

    def add_starts_with(options, field, prefix, _values)
      lower = field.downcase
      option = FIELD_OPTIONS[lower]
      if prefix.empty?
        (options[:allow_any] ||= []) << field
      elsif option && STARTS_WITH.include?(option)
        options[:"#{option}_starts_with"] = prefix
      elsif lower.start_with?('x-amz-meta-')
        (options[:metadata_starts_with] ||= {})[field[11..]] = prefix
      elsif lower == 'key'
        options[:key_starts_with] = prefix
      else
        SigharnessRuby.unsupported("PresignedPost has no starts-with option for #{field.inspect}")
      end
    end

    def sign_post(check)
      post = check['post']
      ctx = check['context']
      time = Time.iso8601(ctx['timestamp']).utc
      values = post['fields'].to_h { |n, v| [n.downcase, v] }
      options = { key: post['key'], signature_expiration: Time.iso8601(post['expiration']) }
      post['conditions'].each { |c| add_condition(options, c, values) }
      fields = url = nil
      start = SigharnessRuby.now_ns
      SigharnessRuby.library do
        presigned = Aws::S3::PresignedPost.new(credentials(ctx), ctx['region'], post['bucket'], options)
        fields = at_fixed_time(time) { presigned.fields }
        url = presigned.url
      end
      elapsed = SigharnessRuby.now_ns - start
      form = fields.map { |n, v| [n, v] }
      # The form's other inputs (a file type the user picks, an x-ignore- field) are the page's, not
      # the library's: PresignedPost returns the hidden fields it signed conditions for.
      given = fields.keys.map(&:downcase)
      post['fields'].each { |n, v| form << [n, v] unless given.include?(n.downcase) }
      { 'status' => 'signed', 'form' => { 'url' => url, 'fields' => form }, 'elapsed_ns' => elapsed }
    end

    def sts_client(check)
      ctx = check['context']
      host = check['token']['host']
      options = { region: ctx['region'], credentials: credentials(ctx) }
      if host == 'sts.amazonaws.com'
        options[:sts_regional_endpoints] = 'legacy' # the global endpoint
      elsif host != "sts.#{ctx['region']}.amazonaws.com"
        # The presigner resolves the endpoint from region, FIPS, dual-stack and regional flags only
        # (EndpointParameters without :endpoint), so a client `endpoint:` would not reach the URL.
        SigharnessRuby.unsupported("Aws::STS::Presigner #{Aws::CORE_GEM_VERSION} builds the URL from the region's endpoint; #{host} is not one")
      end
      Aws::STS::Client.new(options)
    end

    def sign_eks(check)
      token = check['token']
      unless token['expires'] == STS_EXPIRES
        SigharnessRuby.unsupported("get_caller_identity_presigned_url has no expiry option (always #{STS_EXPIRES} s)")
      end
      time = Time.iso8601(check['context']['timestamp']).utc
      client = sts_client(check)
      url = nil
      start = SigharnessRuby.now_ns
      SigharnessRuby.library do
        presigner = Aws::STS::Presigner.new(client: client)
        url = at_fixed_time(time) { presigner.get_caller_identity_presigned_url(headers: { K8S_HEADER => token['cluster_id'] }) }
      end
      elapsed = SigharnessRuby.now_ns - start
      text = EKS_PREFIX + Base64.urlsafe_encode64(url).chomp('==')
      { 'status' => 'signed', 'token' => text, 'canonical_request' => nil, 'string_to_sign' => nil, 'elapsed_ns' => elapsed }
    end
  end
end
