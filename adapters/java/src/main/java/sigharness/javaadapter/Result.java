package sigharness.javaadapter;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The answer to one `sign` message. */
final class Result {
    final String status;     // signed | unsupported | rejected | error
    final String reason;
    String method;
    String url;
    final List<List<String>> headers = new ArrayList<>();
    byte[] body;             // null: body unchanged
    String canonicalRequest;
    String stringToSign;
    long elapsedNs = -1;
    Map<String, Object> stream; // an aws-chunked or event-stream chain (Streaming.java)
    // what `send` hands to the SDK's own HTTP client (Sender.java; java-sdk-v2 only)
    software.amazon.awssdk.http.SdkHttpRequest sdkRequest;
    software.amazon.awssdk.http.ContentStreamProvider sdkPayload;

    private Result(String status, String reason) {
        this.status = status;
        this.reason = reason;
    }

    static Result signed() {
        return new Result("signed", null);
    }

    static Result unsupported(String reason) {
        return new Result("unsupported", reason);
    }

    static Result rejected(Throwable t) {
        return new Result("rejected", describe(t));
    }

    static Result error(String reason) {
        return new Result("error", reason);
    }

    void header(String name, String value) {
        List<String> h = new ArrayList<>(2);
        h.add(name);
        h.add(value);
        headers.add(h);
    }

    boolean isSigned() {
        return "signed".equals(status);
    }

    /** "ExceptionClass: message", following the cause chain of wrapper exceptions (CompletionException...). */
    static String describe(Throwable t) {
        StringBuilder b = new StringBuilder();
        Throwable cur = t;
        int depth = 0;
        while (cur != null && depth < 4) {
            if (b.length() > 0) {
                b.append(" <- ");
            }
            b.append(cur.getClass().getName());
            if (cur.getMessage() != null) {
                b.append(": ").append(cur.getMessage());
            }
            if (cur.getCause() == cur) {
                break;
            }
            cur = cur.getCause();
            depth++;
        }
        return b.toString();
    }

    Map<String, Object> toMessage(String id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "result");
        m.put("id", id);
        m.put("status", status);
        if (!isSigned()) {
            m.put("reason", reason);
            return m;
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("method", method);
        s.put("url", url);
        s.put("headers", headers);
        s.put("body_b64", body == null ? null : Base64.getEncoder().encodeToString(body));
        m.put("signed", s);
        m.put("canonical_request", canonicalRequest);
        m.put("string_to_sign", stringToSign);
        if (stream != null) {
            m.put("stream", stream);
        }
        if (elapsedNs >= 0) {
            m.put("elapsed_ns", elapsedNs);
        }
        return m;
    }
}
