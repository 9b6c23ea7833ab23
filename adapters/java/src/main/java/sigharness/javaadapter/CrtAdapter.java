package sigharness.javaadapter;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import software.amazon.awssdk.crt.auth.credentials.Credentials;
import software.amazon.awssdk.crt.auth.signing.AwsSigner;
import software.amazon.awssdk.crt.auth.signing.AwsSigningConfig;
import software.amazon.awssdk.crt.auth.signing.AwsSigningResult;
import software.amazon.awssdk.crt.http.HttpHeader;
import software.amazon.awssdk.crt.http.HttpRequest;
import software.amazon.awssdk.crt.http.HttpRequestBodyStream;

/**
 * java-crt: aws-crt-java's {@link AwsSigner#sign(HttpRequest, AwsSigningConfig)} with an explicit
 * {@link AwsSigningConfig}. The CRT request carries the method, the wire path and query unchanged
 * ("encoded path" of the request line), the headers in order and the body as a stream. The CRT signs
 * in native code and exposes neither the canonical request nor the string to sign.
 */
final class CrtAdapter implements Adapter {

    @Override
    public String name() {
        return "java-crt";
    }

    @Override
    public String library() {
        return "software.amazon.awssdk.crt:aws-crt";
    }

    @Override
    public String libraryVersion() {
        return LibraryVersion.of(AwsSigner.class, "software.amazon.awssdk.crt", "aws-crt");
    }

    @Override
    public List<String> algorithms() {
        return List.of("sigv4", "sigv4a");
    }

    @Override
    public List<String> exposes() {
        return List.of();
    }

    @Override
    public void warmUp() {
        // loads the CRT's native library (extracted from the jar into java.io.tmpdir)
        new AwsSigningConfig().close();
    }

    private static String refusal(Check c) {
        if (!"header".equals(c.mode) && !"query".equals(c.mode)) {
            return "unknown mode " + c.mode;
        }
        if (!"sigv4".equals(c.algorithm) && !"sigv4a".equals(c.algorithm)) {
            return "unknown algorithm " + c.algorithm;
        }
        if (!"body".equals(c.payload) && !"empty".equals(c.payload) && !"unsigned".equals(c.payload)
            && !c.payload.startsWith("STREAMING-")) {
            return "unknown payload policy " + c.payload;
        }
        return null;
    }

    static AwsSigningConfig config(Check c) {
        AwsSigningConfig config = new AwsSigningConfig();
        config.setAlgorithm(c.isSigV4a()
            ? AwsSigningConfig.AwsSigningAlgorithm.SIGV4_ASYMMETRIC
            : AwsSigningConfig.AwsSigningAlgorithm.SIGV4);
        config.setSignatureType(c.isQuery()
            ? AwsSigningConfig.AwsSignatureType.HTTP_REQUEST_VIA_QUERY_PARAMS
            : AwsSigningConfig.AwsSignatureType.HTTP_REQUEST_VIA_HEADERS);
        // SigV4A: the CRT's region is the region set as written in X-Amz-Region-Set
        config.setRegion(c.isSigV4a() ? String.join(",", c.regionSet) : c.region);
        config.setService(c.service);
        config.setTime(c.timestamp.toEpochMilli());
        config.setCredentials(new Credentials(
            c.accessKeyId.getBytes(StandardCharsets.UTF_8),
            c.secretAccessKey.getBytes(StandardCharsets.UTF_8),
            c.sessionToken == null ? null : c.sessionToken.getBytes(StandardCharsets.UTF_8)));
        config.setShouldNormalizeUriPath(c.normalizePath);
        config.setUseDoubleUriEncode(c.doubleEncode);
        config.setOmitSessionToken("after".equals(c.sessionTokenPlacement));
        switch (c.payload) {
            case "empty":
                config.setSignedBodyValue(AwsSigningConfig.AwsSignedBodyValue.EMPTY_SHA256);
                break;
            case "unsigned":
                config.setSignedBodyValue(AwsSigningConfig.AwsSignedBodyValue.UNSIGNED_PAYLOAD);
                break;
            default:
                // a streaming seed (Streaming.java) signs its STREAMING-... value; else the CRT hashes the body
                config.setSignedBodyValue(c.payload.startsWith("STREAMING-") ? c.payload : null);
        }
        config.setSignedBodyHeader(c.contentSha256Header
            ? AwsSigningConfig.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA256
            : AwsSigningConfig.AwsSignedBodyHeaderType.NONE);
        if (c.isQuery() && c.expires != null) {
            config.setExpirationInSeconds(c.expires);
        }
        return config;
    }

    private static HttpRequest request(Check c) {
        HttpHeader[] headers = new HttpHeader[c.headers.size()];
        for (int k = 0; k < headers.length; k++) {
            headers[k] = new HttpHeader(c.headers.get(k)[0], c.headers.get(k)[1]);
        }
        String target = c.query.isEmpty() ? c.path : c.path + "?" + c.query;
        return new HttpRequest(c.method, target, headers, c.body.length == 0 ? null : new Body(c.body));
    }

    @Override
    public Result sign(Check c) {
        String why = refusal(c);
        if (why != null) {
            return Result.unsupported(why);
        }
        try (AwsSigningConfig config = config(c)) {
            HttpRequest request = request(c);
            AwsSigningResult result;
            long elapsed;
            try {
                long t0 = System.nanoTime();
                result = AwsSigner.sign(request, config).join();
                elapsed = System.nanoTime() - t0;
            } catch (RuntimeException e) {
                return Result.rejected(e);
            }
            HttpRequest out = result.getSignedRequest();
            Result res = Result.signed();
            res.method = out.getMethod();
            res.url = c.scheme + "://" + c.host + out.getEncodedPath();
            for (HttpHeader h : out.getHeaders()) {
                res.header(h.getName(), h.getValue());
            }
            res.body = null; // the CRT reads the body to hash it and does not change it
            res.elapsedNs = elapsed;
            return res;
        } catch (RuntimeException e) {
            // building the config or the request: the CRT's own setters validate (e.g. an empty signed body value)
            return Result.rejected(e);
        }
    }

    @Override
    public String benchRefusal(Check c) {
        return refusal(c);
    }

    @Override
    public Runnable benchTask(Check c) {
        AwsSigningConfig config = config(c);
        return () -> AwsSigner.sign(request(c), config).join();
    }

    /** The body as a CRT request body stream (the signer reads it to hash it, and may rewind it). */
    static final class Body implements HttpRequestBodyStream {
        private final byte[] data;
        private int pos;

        Body(byte[] data) {
            this.data = data;
        }

        @Override
        public boolean sendRequestBody(ByteBuffer out) {
            int n = Math.min(out.remaining(), data.length - pos);
            out.put(data, pos, n);
            pos += n;
            return pos == data.length;
        }

        @Override
        public boolean resetPosition() {
            pos = 0;
            return true;
        }

        @Override
        public long getLength() {
            return data.length;
        }
    }
}
