package dev.pgha;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The engine's state is a value: what a node carries from cycle to cycle is one {@link NodeState}
 * that only {@link HaEngine} keeps (with the last {@link CycleResult} for {@code status()}). No
 * other unit of the engine (the package-private classes of {@code dev.pgha}) has a field that
 * changes; {@link Cycle} is the one cycle's working context and is the exception by design, as are
 * the private copy that {@link NodeState}'s withers use and the one-shot {@link QuorumResolver}. Checked on the compiled classes, so a
 * field added anywhere in the engine is seen.
 */
class EngineStateTest {

    /** The fields that may change, as {@code Class.field}. */
    private static final Set<String> ALLOWED = Set.of("HaEngine.state", "HaEngine.lastResult");

    /**
     * Classes whose fields change by design: the cycle's working context, the withers' copy, and
     * the quorum resolver (built for one computation, asked once, dropped).
     */
    private static final Set<String> WORKING_COPIES = Set.of("Cycle", "NodeState$Copy", "QuorumResolver");

    @Test
    void noEngineUnitKeepsAFieldThatChanges() throws Exception {
        List<Class<?>> engine = engineClasses();
        assertThat(engine).extracting(Class::getSimpleName)
                .as("the scan must see the engine").contains("HaEngine", "Node", "Leadership", "LeaderLock", "SlotKeeper");
        assertThat(mutableFields(Cycle.class)).as("the check sees a field that changes").contains("Cycle.state");
        List<String> mutable = new ArrayList<>();
        for (Class<?> type : engine) {
            if (!WORKING_COPIES.contains(type.getName().substring("dev.pgha.".length()))) {
                mutable.addAll(mutableFields(type));
            }
        }
        assertThat(mutable).as("engine fields that change: carry them in NodeState instead").isEmpty();
    }

    private static List<String> mutableFields(Class<?> type) {
        List<String> out = new ArrayList<>();
        for (Field f : type.getDeclaredFields()) {
            String name = type.getName().substring("dev.pgha.".length()) + "." + f.getName();
            if (!Modifier.isFinal(f.getModifiers()) && !f.isSynthetic() && !ALLOWED.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    @Test
    void nodeStateIsARecordWithoutMutableCollectionsOfItsOwn() {
        assertThat(NodeState.class.isRecord()).isTrue();
        assertThat(LeaderLock.State.class.isRecord()).isTrue();
        assertThat(SlotKeeper.State.class.isRecord()).isTrue();
        assertThat(Shutdown.Progress.class.isRecord()).isTrue();
        assertThat(SyncReplication.State.class.isRecord()).isTrue();
    }

    /** The top-level and nested classes of package {@code dev.pgha} that are not public: the engine. */
    private static List<Class<?>> engineClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Path dir = Path.of(HaEngine.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/pgha");
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String simple = p.getFileName().toString().replace(".class", "");
                if (simple.matches(".*\\$\\d+.*") || simple.contains("$$")) {
                    continue; // anonymous classes and lambdas
                }
                Class<?> type = Class.forName("dev.pgha." + simple, false, EngineStateTest.class.getClassLoader());
                Class<?> top = type;
                while (top.getEnclosingClass() != null) {
                    top = top.getEnclosingClass();
                }
                if (!Modifier.isPublic(top.getModifiers())) {
                    out.add(type);
                }
            }
        }
        return out;
    }
}
