package sigharness.javaadapter;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The protocol host (docs/adapter-protocol.md): JSON lines in on stdin, one answer line per request
 * on stdout, logs on stderr. Usage: {@code java -cp ... sigharness.javaadapter.Main <adapter-name>}.
 */
public final class Main {
    private static final int PROTOCOL = 1;

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        // stdout carries protocol lines only: anything a library prints goes to stderr
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.setOut(System.err);
        if (args.length != 1) {
            System.err.println("usage: Main java-sdk-v2|java-crt");
            System.exit(2);
        }
        Adapter adapter;
        switch (args[0]) {
            case "java-sdk-v2":
                adapter = new SdkV2Adapter();
                break;
            case "java-crt":
                adapter = new CrtAdapter();
                break;
            default:
                System.err.println("unknown adapter " + args[0]);
                System.exit(2);
                return;
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> answer;
            String id = null;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> msg = (Map<String, Object>) Json.parse(line);
                Object idValue = msg.get("id");
                id = idValue == null ? null : String.valueOf(idValue);
                String type = String.valueOf(msg.get("type"));
                if ("bye".equals(type)) {
                    break;
                }
                answer = handle(adapter, type, id, msg);
            } catch (Throwable t) {
                t.printStackTrace();
                answer = Result.error("adapter failure: " + Result.describe(t)).toMessage(id);
            }
            protocol.print(Json.write(answer));
            protocol.print('\n');
            protocol.flush();
        }
        protocol.flush();
        System.exit(0);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> handle(Adapter adapter, String type, String id, Map<String, Object> msg) throws Exception {
        switch (type) {
            case "hello":
                return hello(adapter);
            case "sign": {
                Check check;
                try {
                    check = new Check((Map<String, Object>) msg.get("check"));
                } catch (RuntimeException e) {
                    return Result.error("cannot read the check: " + Result.describe(e)).toMessage(id);
                }
                if (check.surface != null) {
                    return Streaming.sign(adapter, check).toMessage(id);
                }
                return adapter.sign(check).toMessage(id);
            }
            case "send": {
                Check check;
                try {
                    check = new Check((Map<String, Object>) msg.get("check"));
                } catch (RuntimeException e) {
                    return Result.error("cannot read the check: " + Result.describe(e)).toMessage(id);
                }
                Object scheme = msg.get("scheme");
                return Sender.send(adapter, check, String.valueOf(msg.get("client")), scheme == null ? "http" : String.valueOf(scheme), id);
            }
            case "bench":
                return bench(adapter, id, msg);
            default:
                return Result.error("unknown message type " + type).toMessage(id);
        }
    }

    private static Map<String, Object> hello(Adapter adapter) {
        adapter.warmUp();
        Map<String, Object> caps = new LinkedHashMap<>();
        caps.put("algorithms", adapter.algorithms());
        caps.put("modes", List.of("header", "query"));
        caps.put("exposes", adapter.exposes());
        caps.put("bench", true);
        caps.put("surfaces", Streaming.surfaces(adapter));
        // the streaming surfaces' reasons, then the adapter's own (token and POST helpers looked at)
        Map<String, String> why = new LinkedHashMap<>(Streaming.why(adapter));
        why.putAll(adapter.why());
        caps.put("why", why);
        caps.put("clients", Sender.clients(adapter)); // HTTP clients for `send` (Sender.java)
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "hello");
        m.put("protocol", PROTOCOL);
        m.put("name", adapter.name());
        m.put("language", "java");
        m.put("runtime", "java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        m.put("library", adapter.library());
        m.put("library_version", adapter.libraryVersion());
        m.put("capabilities", caps);
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> bench(Adapter adapter, String id, Map<String, Object> msg) throws Exception {
        Object it = msg.get("iterations");
        long iterations = it == null ? 1 : ((Number) it).longValue();
        long elapsed;
        if (msg.get("floor") != null) {
            String floor = String.valueOf(msg.get("floor"));
            if (!"hmac-sha256-chain".equals(floor)) {
                return Result.unsupported("unknown floor " + floor).toMessage(id);
            }
            elapsed = hmacChain(iterations);
        } else {
            Check check;
            try {
                check = new Check((Map<String, Object>) msg.get("check"));
            } catch (RuntimeException e) {
                return Result.error("cannot read the check: " + Result.describe(e)).toMessage(id);
            }
            String why = adapter.benchRefusal(check);
            if (why != null) {
                return Result.unsupported(why).toMessage(id);
            }
            Result probe = adapter.sign(check);
            if (!probe.isSigned()) {
                return probe.toMessage(id);
            }
            Runnable task = adapter.benchTask(check);
            long t0 = System.nanoTime();
            for (long k = 0; k < iterations; k++) {
                task.run();
            }
            elapsed = System.nanoTime() - t0;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "bench");
        m.put("id", id);
        m.put("iterations", iterations);
        m.put("elapsed_ns", elapsed);
        return m;
    }

    /** The bare SigV4 HMAC chain with javax.crypto.Mac: four HMACs for the signing key, one for the signature. */
    static long hmacChain(long iterations) throws Exception {
        byte[] secret = ("AWS4" + "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").getBytes(StandardCharsets.UTF_8);
        byte[][] parts = {
            "20150830".getBytes(StandardCharsets.UTF_8),
            "us-east-1".getBytes(StandardCharsets.UTF_8),
            "service".getBytes(StandardCharsets.UTF_8),
            "aws4_request".getBytes(StandardCharsets.UTF_8),
            ("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63").getBytes(StandardCharsets.UTF_8),
        };
        Mac mac = Mac.getInstance("HmacSHA256");
        byte sink = 0;
        long t0 = System.nanoTime();
        for (long k = 0; k < iterations; k++) {
            byte[] key = secret;
            for (byte[] p : parts) {
                mac.init(new SecretKeySpec(key, "HmacSHA256"));
                key = mac.doFinal(p);
            }
            sink ^= key[0];
        }
        long elapsed = System.nanoTime() - t0;
        if (sink == 42) {
            System.err.print(""); // keeps the loop's result alive
        }
        return elapsed;
    }
}
