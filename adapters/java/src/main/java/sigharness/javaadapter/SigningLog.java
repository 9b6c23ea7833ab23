package sigharness.javaadapter;

/**
 * Records what the AWS SDK's SigV4 request signer writes to its own debug log
 * (logger software.amazon.awssdk.http.auth.aws.internal.signer.DefaultV4RequestSigner:
 * "AWS4 Canonical Request: ..." and "AWS4 String to sign: ..."). Nothing here alters what the
 * library signs: the slf4j binding in org.slf4j.impl hands the log lines to {@link #record}.
 * One signing call at a time (the protocol is strictly sequential).
 */
public final class SigningLog {
    /** The logger whose debug lines carry the canonical request and the string to sign. */
    public static final String SIGNER_LOGGER = "software.amazon.awssdk.http.auth.aws.internal.signer.DefaultV4RequestSigner";
    private static final String CANONICAL_REQUEST = "AWS4 Canonical Request: ";
    private static final String STRING_TO_SIGN = "AWS4 String to sign: ";

    private static volatile boolean recording;
    private static String canonicalRequest;
    private static String stringToSign;

    private SigningLog() {
    }

    /** Whether the SDK's signer logger is at DEBUG: only while a `sign` is being recorded (off for benches). */
    public static boolean isRecording() {
        return recording;
    }

    static void start() {
        canonicalRequest = null;
        stringToSign = null;
        recording = true;
    }

    static void stop() {
        recording = false;
    }

    static String canonicalRequest() {
        return canonicalRequest;
    }

    static String stringToSign() {
        return stringToSign;
    }

    public static void record(String message) {
        if (!recording || message == null) {
            return;
        }
        if (message.startsWith(CANONICAL_REQUEST)) {
            canonicalRequest = message.substring(CANONICAL_REQUEST.length());
        } else if (message.startsWith(STRING_TO_SIGN)) {
            stringToSign = message.substring(STRING_TO_SIGN.length());
        }
    }
}
