package sigharness.javaadapter;

import java.util.List;
import java.util.Map;

/** One signing library behind the protocol. */
interface Adapter {
    String name();

    /** Maven coordinates of the library the adapter drives. */
    String library();

    /** Read at run time from the library's own jar. */
    String libraryVersion();

    List<String> algorithms();

    List<String> exposes();

    /** capabilities.why: the checked reason for each surface or algorithm the library lacks. */
    default Map<String, String> why() {
        return Map.of();
    }

    /** Load native code or classes early so that start-up problems surface at hello. */
    default void warmUp() {
    }

    /** Signs one check; answers unsupported / rejected instead of throwing where it can. */
    Result sign(Check check);

    /** Prepared signing call for the bench: null when the check is unsupported (reason in {@link #benchRefusal}). */
    Runnable benchTask(Check check);

    String benchRefusal(Check check);
}
