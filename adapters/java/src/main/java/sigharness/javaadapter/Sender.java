package sigharness.javaadapter;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.apache.ApacheHttpClient;

/**
 * The {@code send} capability (docs/adapter-protocol.md, docs/wire.md): the check is signed as for
 * {@code sign}, then the signed request goes out with the client named, the way its users send a
 * signed request:
 * <ul>
 * <li>{@code java-net-http}: {@code HttpClient.newBuilder().connectTimeout(5 s).build()} (its defaults
 * otherwise) and {@code HttpRequest.newBuilder(URI.create(url)).method(m, body).header(n, v)} for every
 * signed header. The JDK refuses restricted names (Host, Content-Length, ...) with an
 * IllegalArgumentException unless the user sets {@code -Djdk.httpclient.allowRestrictedHeaders}: not
 * worked around (aws/aws-sdk-java-v2#3152); the refusal is the answer's {@code sent.error}.</li>
 * <li>{@code apache}: the SDK's own {@code ApacheHttpClient} (an {@code SdkHttpClient}) executing the
 * signed {@code SdkHttpRequest} with the signed payload, as the SDK's clients do (java-sdk-v2 only).</li>
 * </ul>
 * Every request has 5 s connect and read timeouts.
 */
final class Sender {
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    static final String RECEIVED = "X-Sigharness-Received";

    private static HttpClient javaNetHttp;
    private static SdkHttpClient apache;

    private Sender() {
    }

    /** The clients an adapter sends with. */
    static List<String> clients(Adapter adapter) {
        return adapter instanceof SdkV2Adapter ? List.of("java-net-http", "apache") : List.of("java-net-http");
    }

    /** The signed URL with its scheme replaced; an explicit default port 443 becomes 80. */
    static String wireUrl(String url, String scheme) {
        int i = url.indexOf("://");
        if (i < 0) {
            return url;
        }
        String rest = url.substring(i + 3);
        int end = rest.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int at = rest.indexOf(c);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        String authority = rest.substring(0, end);
        if (url.substring(0, i).equalsIgnoreCase("https") && authority.endsWith(":443")) {
            authority = authority.substring(0, authority.length() - 4) + ":80";
        }
        return scheme + "://" + authority + rest.substring(end);
    }

    /** The answer to a send message: the sign answer plus its {@code sent} block. */
    static Map<String, Object> send(Adapter adapter, Check check, String client, String scheme, String id) {
        if (!clients(adapter).contains(client)) {
            return Result.error("unknown client \"" + client + "\" (this adapter sends with: "
                + String.join(", ", clients(adapter)) + ")").toMessage(id);
        }
        if (check.surface != null) {
            return Result.unsupported(client + " sends single signed requests; this check is " + check.surface).toMessage(id);
        }
        Result res = adapter.sign(check);
        Map<String, Object> answer = res.toMessage(id);
        if (!res.isSigned()) {
            return answer;
        }
        Map<String, Object> sent = new LinkedHashMap<>();
        sent.put("client", client);
        try {
            if ("apache".equals(client)) {
                sendApache(res, scheme, sent);
            } else {
                sendJavaNetHttp(res, check, scheme, sent);
            }
        } catch (Exception | LinkageError e) {
            sent.remove("status");
            sent.put("error", e.getClass().getName() + ": " + e.getMessage());
        }
        answer.put("sent", sent);
        return answer;
    }

    private static synchronized HttpClient javaNetHttp() {
        if (javaNetHttp == null) {
            javaNetHttp = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
        }
        return javaNetHttp;
    }

    private static synchronized SdkHttpClient apache() {
        if (apache == null) {
            apache = ApacheHttpClient.builder().connectionTimeout(TIMEOUT).socketTimeout(TIMEOUT).build();
        }
        return apache;
    }

    private static void sendJavaNetHttp(Result res, Check check, String scheme, Map<String, Object> sent)
            throws IOException, InterruptedException {
        byte[] body = res.body != null ? res.body : check.body;
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(wireUrl(res.url, scheme)))
            .timeout(TIMEOUT)
            .method(res.method, body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(body));
        for (List<String> h : res.headers) {
            b.header(h.get(0), h.get(1));
        }
        HttpResponse<byte[]> response = javaNetHttp().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        sent.put("status", response.statusCode());
        response.headers().firstValue(RECEIVED).ifPresent(v -> sent.put("received", v));
    }

    private static void sendApache(Result res, String scheme, Map<String, Object> sent) throws IOException {
        SdkHttpRequest signed = res.sdkRequest;
        if (signed == null) {
            throw new IllegalStateException("the adapter kept no SdkHttpRequest to send");
        }
        boolean standardPort = signed.port() == 443 && "https".equalsIgnoreCase(signed.protocol());
        SdkHttpRequest wire = signed.toBuilder().protocol(scheme).port(standardPort ? 80 : signed.port()).build();
        HttpExecuteRequest.Builder exec = HttpExecuteRequest.builder().request(wire);
        ContentStreamProvider payload = res.sdkPayload;
        if (payload != null) {
            exec.contentStreamProvider(payload);
        }
        HttpExecuteResponse response = apache().prepareRequest(exec.build()).call();
        try {
            sent.put("status", response.httpResponse().statusCode());
            response.httpResponse().firstMatchingHeader(RECEIVED).ifPresent(v -> sent.put("received", v));
        } finally {
            if (response.responseBody().isPresent()) {
                try (InputStream in = response.responseBody().get()) {
                    in.readAllBytes();
                }
            }
        }
    }
}
