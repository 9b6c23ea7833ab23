# frozen_string_literal: true

# Test-only: loaded with RUBYOPT=-r<this file> by tests/test_adapters_ruby.py to prove that the
# rb-aws-sigv4 adapter signs with the gem. It reopens the LIBRARY's Aws::Sigv4::Signer and alters the
# final HMAC of the signature (hexhmac), so every signature the gem computes is wrong. The adapter's
# own code (host.rb) is untouched.
require 'aws-sigv4'

module Aws
  module Sigv4
    class Signer
      private

      def hexhmac(key, value)
        OpenSSL::HMAC.hexdigest(OpenSSL::Digest.new('sha256'), key, "#{value}sabotaged")
      end
    end
  end
end
