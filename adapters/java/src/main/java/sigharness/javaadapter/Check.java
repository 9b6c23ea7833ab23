package sigharness.javaadapter;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** One check of the protocol (a case in one mode), read from the `sign` / `bench` message as given. */
final class Check {
    final String caseId;
    final String mode;          // header | query
    final String algorithm;     // sigv4 | sigv4a
    final String method;
    final String scheme;
    final String host;          // authority, port included when the case has one
    final String path;          // raw path as on the wire
    final String query;         // raw query without '?', "" when none
    final String url;
    final List<String[]> headers = new ArrayList<>();
    final byte[] body;
    final String accessKeyId;
    final String secretAccessKey;
    final String sessionToken; // null when none
    final String region;
    final List<String> regionSet = new ArrayList<>();
    final String service;
    final Instant timestamp;
    final Long expires;         // null when not given
    final String payload;       // body | empty | unsigned
    final boolean contentSha256Header;
    final String sessionTokenPlacement; // signed | after
    final boolean normalizePath;
    final boolean doubleEncode;
    final String surface;       // null (single-shot), aws-chunked, event-stream (Streaming.java)
    final Map<String, Object> raw; // the check as sent (Streaming reads its chunked / event_stream block)

    @SuppressWarnings("unchecked")
    Check(Map<String, Object> m) {
        caseId = str(m, "case", "");
        mode = str(m, "mode", "header");
        algorithm = str(m, "algorithm", "sigv4");
        Map<String, Object> r = (Map<String, Object>) req(m, "request");
        method = (String) req(r, "method");
        scheme = str(r, "scheme", "https");
        host = (String) req(r, "host");
        path = str(r, "path", "/");
        query = str(r, "query", "");
        url = str(r, "url", null);
        for (Object h : (List<Object>) req(r, "headers")) {
            List<Object> pair = (List<Object>) h;
            headers.add(new String[] {(String) pair.get(0), (String) pair.get(1)});
        }
        String b64 = str(r, "body_b64", "");
        body = Base64.getDecoder().decode(b64 == null ? "" : b64);
        Map<String, Object> c = (Map<String, Object>) req(m, "context");
        accessKeyId = (String) req(c, "access_key_id");
        secretAccessKey = (String) req(c, "secret_access_key");
        sessionToken = str(c, "session_token", null);
        region = str(c, "region", null);
        Object rs = c.get("region_set");
        if (rs instanceof List) {
            for (Object o : (List<Object>) rs) {
                regionSet.add((String) o);
            }
        } else if (region != null) {
            regionSet.add(region);
        }
        service = (String) req(c, "service");
        timestamp = Instant.parse((String) req(c, "timestamp"));
        Object e = c.get("expires");
        expires = e == null ? null : ((Number) e).longValue();
        payload = str(c, "payload", "body");
        contentSha256Header = bool(c, "content_sha256_header", false);
        sessionTokenPlacement = str(c, "session_token_placement", "signed");
        normalizePath = bool(c, "normalize_path", true);
        doubleEncode = bool(c, "double_encode", true);
        surface = str(m, "surface", null);
        raw = m;
    }

    boolean isQuery() {
        return "query".equals(mode);
    }

    boolean isSigV4a() {
        return "sigv4a".equals(algorithm);
    }

    private static Object req(Map<String, Object> m, String k) {
        if (!m.containsKey(k) || m.get(k) == null) {
            throw new IllegalArgumentException("check is missing '" + k + "'");
        }
        return m.get(k);
    }

    private static String str(Map<String, Object> m, String k, String dflt) {
        Object v = m.get(k);
        return v == null ? dflt : (String) v;
    }

    private static boolean bool(Map<String, Object> m, String k, boolean dflt) {
        Object v = m.get(k);
        return v == null ? dflt : (Boolean) v;
    }
}
