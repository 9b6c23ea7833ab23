package sigharness.javaadapter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.checksums.DefaultChecksumAlgorithm;
import software.amazon.awssdk.checksums.spi.ChecksumAlgorithm;
import software.amazon.awssdk.crt.auth.signing.AwsSigner;
import software.amazon.awssdk.crt.auth.signing.AwsSigningConfig;
import software.amazon.awssdk.crt.auth.signing.AwsSigningResult;
import software.amazon.awssdk.crt.http.HttpHeader;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * aws-chunked uploads and event streams (docs/streaming.md).
 *
 * <p>java-crt: the seed is signed by {@link AwsSigner#sign} with the STREAMING-... signed body value and
 * the X-Amz-Content-Sha256 header; each chunk by {@link AwsSigner#signChunk} (signature type
 * HTTP_REQUEST_CHUNK), the trailing headers by {@link AwsSigner#sign(List, byte[], AwsSigningConfig)}
 * (HTTP_REQUEST_TRAILING_HEADERS), and each event by {@link AwsSigner#sign(software.amazon.awssdk.crt.http.HttpRequestBodyStream, byte[], AwsSigningConfig)}
 * (HTTP_REQUEST_EVENT), each chained on the previous signature, as aws-crt-java's SigningTest does.
 *
 * <p>java-sdk-v2: AwsV4HttpSigner / AwsV4aHttpSigner with CHUNK_ENCODING_ENABLED (and CHECKSUM_ALGORITHM
 * for a checksum trailer), as the S3 client configures them; the signer writes the aws-chunked body itself
 * in chunks of its own size, and the answer is that body.
 */
final class Streaming {
    // The headers the chunked payload signers set themselves: x-amz-decoded-content-length from the
    // Content-Length they are given (the decoded length), then Content-Length, x-amz-trailer, and
    // Content-Encoding (AwsChunkedV4PayloadSigner appends aws-chunked to one the caller gave: twice).
    private static final Set<String> STREAM_HEADERS = Set.of("content-encoding", "x-amz-decoded-content-length", "content-length", "x-amz-trailer");

    private Streaming() {
    }

    static List<String> surfaces(Adapter adapter) {
        return adapter instanceof CrtAdapter ? List.of("single", "aws-chunked", "event-stream") : List.of("single", "aws-chunked");
    }

    static Map<String, String> why(Adapter adapter) {
        Map<String, String> why = new LinkedHashMap<>();
        if (adapter instanceof SdkV2Adapter) {
            why.put("event-stream", "http-auth-aws " + adapter.libraryVersion() + " AwsV4HttpSigner signs event streams only inside the SDK's "
                + "async clients (its event-stream payload signer is not reachable from HttpSigner.sign: SignRequest takes a ContentStreamProvider, "
                + "signAsync a Publisher of whole request bodies)");
        }
        return why;
    }

    static Result sign(Adapter adapter, Check c) {
        try {
            if (adapter instanceof CrtAdapter) {
                return "aws-chunked".equals(c.surface) ? crtChunked(adapter, c) : crtEvents(adapter, c);
            }
            if (adapter instanceof SdkV2Adapter && "aws-chunked".equals(c.surface)) {
                return sdkChunked((SdkV2Adapter) adapter, c);
            }
            return Result.unsupported(why(adapter).getOrDefault(c.surface, "no " + c.surface + " signing"));
        } catch (RuntimeException e) {
            return Result.rejected(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> block(Check c, String name) {
        return (Map<String, Object>) c.raw.get(name);
    }

    /** The check for the seed request: header mode, the streaming payload value, its header. */
    @SuppressWarnings("unchecked")
    private static Check seedCheck(Check c, String payload) {
        Map<String, Object> m = new LinkedHashMap<>(c.raw);
        Map<String, Object> ctx = new LinkedHashMap<>((Map<String, Object>) c.raw.get("context"));
        ctx.put("payload", payload);
        ctx.put("content_sha256_header", true);
        m.put("context", ctx);
        m.put("mode", "header");
        m.remove("surface");
        return new Check(m);
    }

    private static String seedSignature(Result seed) {
        for (List<String> h : seed.headers) {
            if ("authorization".equalsIgnoreCase(h.get(0))) {
                String v = h.get(1);
                return v.substring(v.lastIndexOf("Signature=") + "Signature=".length()).trim();
            }
        }
        throw new IllegalStateException("the signed seed request has no Authorization header");
    }

    private static AwsSigningConfig chainConfig(Check c, AwsSigningConfig.AwsSignatureType type, long millis) {
        AwsSigningConfig config = CrtAdapter.config(c);
        config.setSignatureType(type);
        config.setSignedBodyHeader(AwsSigningConfig.AwsSignedBodyHeaderType.NONE);
        config.setSignedBodyValue(null);
        config.setTime(millis);
        return config;
    }

    @SuppressWarnings("unchecked")
    private static Result crtChunked(Adapter adapter, Check c) {
        Map<String, Object> spec = block(c, "chunked");
        Result seed = adapter.sign(seedCheck(c, (String) spec.get("payload")));
        if (!seed.isSigned()) {
            return seed;
        }
        List<String> signatures = new ArrayList<>();
        Object trailerSignature = null;
        if (!Boolean.TRUE.equals(spec.get("unsigned"))) {
            byte[] previous = seedSignature(seed).getBytes(StandardCharsets.US_ASCII);
            List<byte[]> chunks = new ArrayList<>();
            for (Object b64 : (List<Object>) spec.get("chunks_b64")) {
                chunks.add(Base64.getDecoder().decode((String) b64));
            }
            chunks.add(new byte[0]);
            try (AwsSigningConfig config = chainConfig(c, AwsSigningConfig.AwsSignatureType.HTTP_REQUEST_CHUNK, c.timestamp.toEpochMilli())) {
                for (byte[] chunk : chunks) {
                    previous = AwsSigner.signChunk(new CrtAdapter.Body(chunk), previous, config).join();
                    signatures.add(new String(previous, StandardCharsets.US_ASCII));
                }
            }
            List<Object> trailers = (List<Object>) spec.get("trailers");
            if (!trailers.isEmpty()) {
                List<HttpHeader> headers = new ArrayList<>();
                for (Object t : trailers) {
                    List<Object> pair = (List<Object>) t;
                    headers.add(new HttpHeader((String) pair.get(0), (String) pair.get(1)));
                }
                try (AwsSigningConfig config = chainConfig(c, AwsSigningConfig.AwsSignatureType.HTTP_REQUEST_TRAILING_HEADERS, c.timestamp.toEpochMilli())) {
                    AwsSigningResult result = AwsSigner.sign(headers, previous, config).join();
                    trailerSignature = new String(result.getSignature(), StandardCharsets.US_ASCII);
                }
            }
        }
        Map<String, Object> stream = new LinkedHashMap<>();
        stream.put("chunk_signatures", signatures);
        stream.put("trailer_signature", trailerSignature);
        seed.stream = stream;
        return seed;
    }

    @SuppressWarnings("unchecked")
    private static Result crtEvents(Adapter adapter, Check c) {
        Map<String, Object> spec = block(c, "event_stream");
        Result seed = adapter.sign(seedCheck(c, (String) spec.get("payload")));
        if (!seed.isSigned()) {
            return seed;
        }
        byte[] previous = seedSignature(seed).getBytes(StandardCharsets.US_ASCII);
        List<Object> events = new ArrayList<>();
        for (Object o : (List<Object>) spec.get("events")) {
            Map<String, Object> event = (Map<String, Object>) o;
            // The envelope payload as the check gives it (the encoded inner message): the CRT signer signs
            // payload bytes. (aws-crt 0.49.0's eventstream Message, an RPC helper, cannot be used to encode
            // them: it fails on a message without headers or with an empty payload.)
            byte[] payload = Base64.getDecoder().decode((String) event.get("payload_b64"));
            long millis = Instant.parse((String) event.get("time")).toEpochMilli();
            try (AwsSigningConfig config = chainConfig(c, AwsSigningConfig.AwsSignatureType.HTTP_REQUEST_EVENT, millis)) {
                AwsSigningResult result = AwsSigner.sign(new CrtAdapter.Body(payload), previous, config).join();
                previous = result.getSignature();
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("date_ms", millis);
            out.put("signature", new String(previous, StandardCharsets.US_ASCII));
            events.add(out);
        }
        Map<String, Object> stream = new LinkedHashMap<>();
        stream.put("events", events);
        seed.stream = stream;
        return seed;
    }

    private static final Map<String, ChecksumAlgorithm> CHECKSUMS = Map.of(
        "x-amz-checksum-crc32", DefaultChecksumAlgorithm.CRC32,
        "x-amz-checksum-crc32c", DefaultChecksumAlgorithm.CRC32C,
        "x-amz-checksum-crc64nvme", DefaultChecksumAlgorithm.CRC64NVME,
        "x-amz-checksum-sha1", DefaultChecksumAlgorithm.SHA1,
        "x-amz-checksum-sha256", DefaultChecksumAlgorithm.SHA256);

    /** The request an S3 client user hands the SDK: the data as the body, Content-Length its size. */
    @SuppressWarnings("unchecked")
    private static Check sdkCheck(Check c, byte[] data, boolean unsigned) {
        Map<String, Object> m = new LinkedHashMap<>(c.raw);
        Map<String, Object> req = new LinkedHashMap<>((Map<String, Object>) c.raw.get("request"));
        List<Object> headers = new ArrayList<>();
        for (Object h : (List<Object>) req.get("headers")) {
            if (!STREAM_HEADERS.contains(((String) ((List<Object>) h).get(0)).toLowerCase())) {
                headers.add(h);
            }
        }
        headers.add(List.of("Content-Length", Integer.toString(data.length)));
        req.put("headers", headers);
        req.put("body_b64", Base64.getEncoder().encodeToString(data));
        Map<String, Object> ctx = new LinkedHashMap<>((Map<String, Object>) c.raw.get("context"));
        ctx.put("payload", unsigned ? "unsigned" : "body");
        m.put("request", req);
        m.put("context", ctx);
        m.put("mode", "header");
        m.remove("surface");
        return new Check(m);
    }

    @SuppressWarnings("unchecked")
    private static Result sdkChunked(SdkV2Adapter adapter, Check c) {
        Map<String, Object> spec = block(c, "chunked");
        boolean unsigned = Boolean.TRUE.equals(spec.get("unsigned"));
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Object b64 : (List<Object>) spec.get("chunks_b64")) {
            data.writeBytes(Base64.getDecoder().decode((String) b64));
        }
        List<Object> trailers = (List<Object>) spec.get("trailers");
        ChecksumAlgorithm checksum = null;
        if (trailers.size() > 1) {
            return Result.unsupported("AwsV4HttpSigner writes one trailer, the checksum of CHECKSUM_ALGORITHM; more trailers cannot be expressed");
        }
        if (trailers.size() == 1) {
            String name = ((String) ((List<Object>) trailers.get(0)).get(0)).toLowerCase();
            checksum = CHECKSUMS.get(name);
            if (checksum == null) {
                return Result.unsupported("AwsV4HttpSigner's only trailer is an x-amz-checksum-* of CHECKSUM_ALGORITHM, not " + name);
            }
        }
        Check plain = sdkCheck(c, data.toByteArray(), unsigned);
        HttpSigner<AwsCredentialsIdentity> signer = adapter.signerFor(plain);
        ChecksumAlgorithm algorithm = checksum;
        SignRequest<? extends AwsCredentialsIdentity> request = adapter.prepare(plain).copy(b -> {
            b.putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, true);
            b.putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, !unsigned);
            if (algorithm != null) {
                b.putProperty(AwsV4FamilyHttpSigner.CHECKSUM_ALGORITHM, algorithm);
            }
            if (plain.body.length == 0) {
                b.payload(ContentStreamProvider.fromByteArray(new byte[0]));
            }
        });
        SignedRequest signed;
        long elapsed;
        SigningLog.start();
        try {
            long t0 = System.nanoTime();
            signed = signer.sign(request);
            elapsed = System.nanoTime() - t0;
        } finally {
            SigningLog.stop();
        }
        Result res = Result.signed();
        res.canonicalRequest = SigningLog.canonicalRequest();
        res.stringToSign = SigningLog.stringToSign();
        res.method = signed.request().method().name();
        res.url = SdkV2Adapter.urlOf(signed.request());
        signed.request().forEachHeader((name, values) -> values.forEach(v -> res.header(name, v)));
        res.elapsedNs = elapsed;
        byte[] body;
        try (InputStream in = signed.payload().orElseThrow(() -> new IllegalStateException("the signer returned no payload")).newStream()) {
            body = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Map<String, Object> stream = new LinkedHashMap<>();
        stream.put("body_b64", Base64.getEncoder().encodeToString(body));
        res.stream = stream;
        return res;
    }
}
