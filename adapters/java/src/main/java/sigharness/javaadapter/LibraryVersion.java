package sigharness.javaadapter;

import java.io.InputStream;
import java.net.URL;
import java.util.Properties;

/** Reads a library's version from the Maven metadata packed inside the jar that holds one of its classes. */
final class LibraryVersion {
    private LibraryVersion() {
    }

    static String of(Class<?> libraryClass, String groupId, String artifactId) {
        String resource = "/META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
        try {
            // the jar (or folder) that actually provided the class, not whatever comes first on the classpath
            URL location = libraryClass.getProtectionDomain().getCodeSource().getLocation();
            URL url = location.getPath().endsWith(".jar")
                ? new URL("jar:" + location + "!" + resource)
                : new URL(location, resource.substring(1));
            try (InputStream in = url.openStream()) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null) {
                    return v;
                }
            }
        } catch (Exception e) {
            // fall through to the manifest
        }
        Package pkg = libraryClass.getPackage();
        String v = pkg == null ? null : pkg.getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
