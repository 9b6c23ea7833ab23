import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;
import jdk.internal.org.objectweb.asm.ClassReader;
import jdk.internal.org.objectweb.asm.ClassVisitor;
import jdk.internal.org.objectweb.asm.ClassWriter;
import jdk.internal.org.objectweb.asm.MethodVisitor;
import jdk.internal.org.objectweb.asm.Opcodes;

/**
 * TEST ONLY (tests/test_adapters_java.py): a Java agent that breaks one method of a signing LIBRARY
 * while its classes load, to prove that the adapters' signatures come from the library. It is never
 * part of the adapter build; the test compiles it and passes it with
 * {@code --adapter-env JAVA_TOOL_OPTIONS=-javaagent:<jar>=<target>}.
 *
 * <ul>
 *   <li>{@code sdk}: software.amazon.awssdk.http.auth.aws.internal.signer.util.SignerUtils.computeSignature
 *       (the SDK's final HMAC of the string to sign) signs the string to sign with "!" appended.</li>
 *   <li>{@code crt}: software.amazon.awssdk.crt.auth.signing.AwsSigningConfig.setCredentials stores
 *       credentials with another secret key, so the native signer receives a different key.</li>
 * </ul>
 * The bytecode is rewritten with the ASM copy inside the JDK (java.base), so nothing is downloaded.
 */
public final class BreakAgent implements ClassFileTransformer {
    static final String SDK_CLASS = "software/amazon/awssdk/http/auth/aws/internal/signer/util/SignerUtils";
    static final String CRT_CLASS = "software/amazon/awssdk/crt/auth/signing/AwsSigningConfig";
    private final String target;

    private BreakAgent(String target) {
        this.target = target;
    }

    public static void premain(String args, Instrumentation inst) {
        if (!"sdk".equals(args) && !"crt".equals(args)) {
            throw new IllegalArgumentException("BreakAgent: argument must be sdk or crt, got " + args);
        }
        Module javaBase = Object.class.getModule();
        inst.redefineModule(javaBase, Set.of(),
            Map.of("jdk.internal.org.objectweb.asm", Set.of(BreakAgent.class.getModule())),
            Map.of(), Set.of(), Map.of());
        inst.addTransformer(new BreakAgent(args));
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined,
                            ProtectionDomain domain, byte[] bytes) {
        try {
            if ("sdk".equals(target) && SDK_CLASS.equals(className)) {
                return Patch.rewrite(bytes, className, "computeSignature", "(Ljava/lang/String;[B)[B", true);
            }
            if ("crt".equals(target) && CRT_CLASS.equals(className)) {
                return Patch.rewrite(bytes, className, "setCredentials",
                    "(Lsoftware/amazon/awssdk/crt/auth/credentials/Credentials;)V", false);
            }
        } catch (Throwable t) {
            System.err.println("BreakAgent: could not rewrite " + className + ": " + t);
            t.printStackTrace();
        }
        return null;
    }

    /** Loaded only after premain has opened jdk.internal.org.objectweb.asm to this module. */
    static final class Patch {
        static byte[] rewrite(byte[] bytes, String className, String method, String descriptor, boolean sdk) {
            ClassReader reader = new ClassReader(bytes);
            ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
            boolean[] done = {false};
            reader.accept(new ClassVisitor(Opcodes.ASM8, writer) {
                @Override
                public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exc) {
                    MethodVisitor mv = super.visitMethod(access, name, desc, sig, exc);
                    if (!name.equals(method) || !desc.equals(descriptor)) {
                        return mv;
                    }
                    done[0] = true;
                    return new MethodVisitor(Opcodes.ASM8, mv) {
                        @Override
                        public void visitCode() {
                            super.visitCode();
                            if (sdk) {
                                // static computeSignature(String stringToSign, byte[] key):
                                // stringToSign = stringToSign.concat("!")
                                super.visitVarInsn(Opcodes.ALOAD, 0);
                                super.visitLdcInsn("!");
                                super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/String", "concat",
                                    "(Ljava/lang/String;)Ljava/lang/String;", false);
                                super.visitVarInsn(Opcodes.ASTORE, 0);
                            } else {
                                // setCredentials(Credentials c):
                                // c = new Credentials(c.getAccessKeyId(), "sabotaged".getBytes(), c.getSessionToken())
                                String creds = "software/amazon/awssdk/crt/auth/credentials/Credentials";
                                super.visitTypeInsn(Opcodes.NEW, creds);
                                super.visitInsn(Opcodes.DUP);
                                super.visitVarInsn(Opcodes.ALOAD, 1);
                                super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, creds, "getAccessKeyId", "()[B", false);
                                super.visitLdcInsn("sigharness-sabotaged-secret");
                                super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/String", "getBytes", "()[B", false);
                                super.visitVarInsn(Opcodes.ALOAD, 1);
                                super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, creds, "getSessionToken", "()[B", false);
                                super.visitMethodInsn(Opcodes.INVOKESPECIAL, creds, "<init>", "([B[B[B)V", false);
                                super.visitVarInsn(Opcodes.ASTORE, 1);
                            }
                        }
                    };
                }
            }, 0);
            if (!done[0]) {
                throw new IllegalStateException(className + "." + method + descriptor + " not found: update the sabotage");
            }
            System.err.println("BreakAgent: altered " + className.replace('/', '.') + "." + method);
            return writer.toByteArray();
        }
    }
}
