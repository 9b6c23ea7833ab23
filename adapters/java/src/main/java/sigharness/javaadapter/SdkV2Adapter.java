package sigharness.javaadapter;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4aHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.RegionSet;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * java-sdk-v2: the AWS SDK for Java v2 signers of software.amazon.awssdk:http-auth-aws,
 * {@link AwsV4HttpSigner} for SigV4 and {@link AwsV4aHttpSigner} (implemented with aws-crt, found
 * through http-auth-aws-crt) for SigV4A, configured only through their documented signer properties.
 *
 * <p>The request is an {@link SdkHttpFullRequest} as an SDK user builds one: protocol, host and port
 * of the URL, the wire path given to {@code encodedPath} (the SDK's field for the already encoded
 * path; see {@link #encodedPath} for a path that is not encoded yet), and the query handed to the SDK's own parser {@link SdkHttpUtils#uriParams} (which
 * decodes names and values for {@code putRawQueryParameter}), exactly what
 * {@code SdkHttpRequest.Builder.uri(URI)} does with a URL's query. Headers are appended in order.
 */
final class SdkV2Adapter implements Adapter {
    private final AwsV4HttpSigner v4 = AwsV4HttpSigner.create();
    private AwsV4aHttpSigner v4a; // loaded on first SigV4A check (needs http-auth-aws-crt + aws-crt)

    @Override
    public String name() {
        return "java-sdk-v2";
    }

    @Override
    public String library() {
        return "software.amazon.awssdk:http-auth-aws";
    }

    @Override
    public String libraryVersion() {
        return LibraryVersion.of(AwsV4HttpSigner.class, "software.amazon.awssdk", "http-auth-aws");
    }

    @Override
    public List<String> algorithms() {
        return List.of("sigv4", "sigv4a");
    }

    /** The SDK's token helpers, looked at and left out (docs/post-policy-and-tokens.md, docs/unsupported.md). */
    @Override
    public Map<String, String> why() {
        return Map.of(
            "rds", "software.amazon.awssdk:rds 2.57.8 RdsUtilities.generateAuthenticationToken signs at "
                + "Instant.now(Clock.systemUTC()): RdsUtilities.Builder takes region and credentials only, the "
                + "DefaultRdsUtilities(builder, Clock) constructor is package-private (the SDK's tests), so a token "
                + "for the check's signing time cannot be asked for",
            "dsql", "software.amazon.awssdk:dsql (DsqlUtilities) 2.57.8 is not served by the Maven registry this "
                + "project builds from (not found, looked at 2026-12-01)",
            "post-policy", "the AWS SDK for Java v2 (2.57.8) has no presigned POST helper: S3Presigner presigns "
                + "URLs only (feature request aws/aws-sdk-java-v2#1493, open; proposed in #6885)",
            "eks", "the AWS SDK for Java v2 (2.57.8) has no EKS token generator");
    }

    @Override
    public List<String> exposes() {
        // SigV4 only: DefaultV4RequestSigner logs both at DEBUG; the SigV4A signer (CRT) logs neither
        return List.of("canonical_request", "string_to_sign");
    }

    /** Why the library cannot express this check, or null. */
    private static String refusal(Check c) {
        if (!"header".equals(c.mode) && !"query".equals(c.mode)) {
            return "unknown mode " + c.mode;
        }
        if (!"sigv4".equals(c.algorithm) && !"sigv4a".equals(c.algorithm)) {
            return "unknown algorithm " + c.algorithm;
        }
        // Token after signing: no signer property leaves it out. A presigned URL with a signed token is
        // not the URL asked for; in header mode the token is one more signed header (the verdict shows it).
        if (c.sessionToken != null && "after".equals(c.sessionTokenPlacement) && c.isQuery()) {
            return "AwsV4HttpSigner/AwsV4aHttpSigner always sign X-Amz-Security-Token (header or query); "
                + "they have no option to add the session token after signing";
        }
        if ("empty".equals(c.payload) && c.body.length > 0 && !c.isQuery()) {
            return "AwsV4HttpSigner hashes the payload it is given (or writes UNSIGNED-PAYLOAD with "
                + "PAYLOAD_SIGNING_ENABLED=false); it has no option to sign the empty-body hash for a request with a body";
        }
        if (!"body".equals(c.payload) && !"empty".equals(c.payload) && !"unsigned".equals(c.payload)) {
            return "unknown payload policy " + c.payload;
        }
        return null;
    }

    /** Builds the SDK request and the SignRequest; exceptions come from the SDK (or java.net.URI it relies on). */
    SignRequest<? extends AwsCredentialsIdentity> prepare(Check c) {
        // the URL authority split into the builder's host and port fields ("[::1]:443" -> "[::1]", 443)
        String host = c.host;
        Integer port = null;
        int colon = host.lastIndexOf(':');
        if (colon > host.lastIndexOf(']') && colon + 1 < host.length()
            && host.substring(colon + 1).chars().allMatch(Character::isDigit)) {
            port = Integer.parseInt(host.substring(colon + 1));
            host = host.substring(0, colon);
        }
        SdkHttpFullRequest.Builder b = SdkHttpFullRequest.builder()
            .method(SdkHttpMethod.fromValue(c.method))
            .protocol(c.scheme)
            .host(host)
            .port(port)
            .encodedPath(encodedPath(c.path));
        if (!c.query.isEmpty()) {
            URI forQuery;
            try {
                forQuery = URI.create("?" + c.query);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the SDK's query parsing (SdkHttpRequest.Builder.uri -> "
                    + "SdkHttpUtils.uriParams) needs a java.net.URI and cannot take this query: " + e.getMessage(), e);
            }
            SdkHttpUtils.uriParams(forQuery).forEach(b::putRawQueryParameter);
        }
        for (String[] h : c.headers) {
            b.appendHeader(h[0], h[1]);
        }
        SdkHttpFullRequest request = b.build();

        AwsCredentialsIdentity identity = c.sessionToken == null
            ? AwsCredentialsIdentity.create(c.accessKeyId, c.secretAccessKey)
            : AwsSessionCredentialsIdentity.create(c.accessKeyId, c.secretAccessKey, c.sessionToken);

        SignRequest.Builder<AwsCredentialsIdentity> r = SignRequest.builder(identity)
            .request(request)
            .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(c.timestamp, ZoneOffset.UTC))
            .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, c.service)
            .putProperty(AwsV4FamilyHttpSigner.DOUBLE_URL_ENCODE, c.doubleEncode)
            .putProperty(AwsV4FamilyHttpSigner.NORMALIZE_PATH, c.normalizePath)
            .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, !"unsigned".equals(c.payload))
            .putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, false)
            .putProperty(AwsV4FamilyHttpSigner.AUTH_LOCATION,
                c.isQuery() ? AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING : AwsV4FamilyHttpSigner.AuthLocation.HEADER);
        if (c.isSigV4a()) {
            r.putProperty(AwsV4aHttpSigner.REGION_SET, RegionSet.create(c.regionSet));
        } else {
            r.putProperty(AwsV4HttpSigner.REGION_NAME, c.region);
        }
        if (c.isQuery() && c.expires != null) {
            r.putProperty(AwsV4FamilyHttpSigner.EXPIRATION_DURATION, Duration.ofSeconds(c.expires));
        }
        // A presigned URL is made before (and apart from) any body, so a presign that signs the empty
        // payload gets no payload; otherwise the body is the request's payload, as for any SDK call.
        boolean withPayload = c.body.length > 0 && !(c.isQuery() && "empty".equals(c.payload));
        if (withPayload) {
            r.payload(ContentStreamProvider.fromByteArray(c.body));
        }
        return r.build();
    }

    /**
     * The path for {@code encodedPath}. A wire path that is already a legal URI path goes in unchanged.
     * One with characters a URI cannot hold (a raw space, as in the suite's get-space cases) is not an
     * encoded path yet: the SDK's own request marshallers fill {@code encodedPath} from a path value with
     * {@link SdkHttpUtils#urlEncodeIgnoreSlashes} (ProtocolUtils / PathMarshaller, greedy labels), so such
     * a path is encoded that way, as an SDK user does. A path that mixes escapes ('%') with such
     * characters is ambiguous (is '%41' text or an escape?) and goes in unchanged for the SDK to judge.
     */
    static String encodedPath(String path) {
        if (path.indexOf('%') >= 0 || isUriPath(path)) {
            return path;
        }
        return SdkHttpUtils.urlEncodeIgnoreSlashes(path);
    }

    private static boolean isUriPath(String path) {
        try {
            return new URI("https://example.invalid" + path).getRawPath().equals(path);
        } catch (URISyntaxException e) {
            return false;
        }
    }

    synchronized HttpSigner<AwsCredentialsIdentity> signerFor(Check c) {
        if (!c.isSigV4a()) {
            return v4;
        }
        if (v4a == null) {
            v4a = AwsV4aHttpSigner.create();
        }
        return v4a;
    }

    @Override
    public Result sign(Check c) {
        String why = refusal(c);
        if (why != null) {
            return Result.unsupported(why);
        }
        SignRequest<? extends AwsCredentialsIdentity> request;
        HttpSigner<AwsCredentialsIdentity> signer;
        try {
            signer = signerFor(c);
        } catch (RuntimeException | LinkageError e) {
            // AwsV4aHttpSigner.create() loads http-auth-aws-crt and aws-crt: a broken classpath, not the check
            return Result.error("cannot load the signer: " + Result.describe(e));
        }
        try {
            request = prepare(c);
        } catch (RuntimeException e) {
            return Result.rejected(e);
        }
        SignedRequest signed;
        long elapsed;
        SigningLog.start();
        try {
            long t0 = System.nanoTime();
            signed = signer.sign(request);
            elapsed = System.nanoTime() - t0;
        } catch (RuntimeException e) {
            return Result.rejected(e);
        } finally {
            SigningLog.stop();
        }
        Result res = Result.signed();
        SdkHttpRequest out = signed.request();
        res.method = out.method().name();
        res.url = urlOf(out);
        out.forEachHeader((name, values) -> values.forEach(v -> res.header(name, v)));
        res.body = null; // V4 / V4a payload signers without chunk encoding hand back the payload unchanged
        res.canonicalRequest = SigningLog.canonicalRequest();
        res.stringToSign = SigningLog.stringToSign();
        res.elapsedNs = elapsed;
        res.sdkRequest = out; // for `send` with the SDK's Apache client (Sender.java)
        res.sdkPayload = signed.payload().orElse(null);
        return res;
    }

    /** The URL as the SDK writes it: SdkHttpRequest.getUri(), whose string is exactly this concatenation. */
    static String urlOf(SdkHttpRequest r) {
        try {
            return r.getUri().toString();
        } catch (RuntimeException e) {
            // getUri() re-parses with java.net.URI and refuses e.g. a raw space; the same pieces, unparsed
            String port = SdkHttpUtils.isUsingStandardPort(r.protocol(), r.port()) ? "" : ":" + r.port();
            return r.protocol() + "://" + r.host() + port + r.encodedPath()
                + r.encodedQueryParameters().map(q -> "?" + q).orElse("");
        }
    }

    @Override
    public String benchRefusal(Check c) {
        return refusal(c);
    }

    @Override
    public Runnable benchTask(Check c) {
        SignRequest<? extends AwsCredentialsIdentity> request = prepare(c);
        HttpSigner<AwsCredentialsIdentity> signer = signerFor(c);
        return () -> signer.sign(request);
    }
}
