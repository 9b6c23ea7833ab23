# frozen_string_literal: true

# Test-only: loaded with RUBYOPT=-r<this file> by tests/test_adapters_surfaces.py to prove that
# rb-aws-sdk-presigners makes its forms and tokens with the SDK. Besides break.rb (aws-sigv4's
# Signer, which Aws::STS::Presigner signs with), it reopens the LIBRARY's Aws::S3::PresignedPost and
# alters its final HMAC (hexhmac), so every POST signature the gem computes is wrong. The adapter's
# own code (presigners.rb) is untouched.
require_relative 'break'
require 'aws-sdk-s3'

module Aws
  module S3
    class PresignedPost
      private

      def hexhmac(key, value)
        OpenSSL::HMAC.hexdigest(OpenSSL::Digest.new('sha256'), key, "#{value}sabotaged")
      end
    end
  end
end
