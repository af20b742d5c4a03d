package dev.pgha;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * The packages of {@code pgha-core} form no cycle: the entry points and the engine
 * ({@code dev.pgha}) sit on the storage SPI ({@code dev.pgha.dcs}), the PostgreSQL abstraction
 * ({@code dev.pgha.postgres}) and the cluster values ({@code dev.pgha.cluster}); the
 * implementations ({@code dev.pgha.postgres.local}, {@code dev.pgha.fencing}) sit on top and
 * nothing below them refers to them. The graph is the compiled classes' as the JDK's
 * {@code jdeps} reads it, so a reference from a method body or a Javadoc-free import counts too.
 */
class PackageCyclesTest {

    private static final Pattern EDGE = Pattern.compile("^\\s*(dev\\.pgha[\\w.]*)\\s+->\\s+(dev\\.pgha[\\w.]*)\\s");

    @Test
    void corePackagesFormNoCycle() throws URISyntaxException {
        Map<String, Set<String>> graph = packageGraph(classesOf(HaController.class));
        assertThat(graph.keySet()).as("jdeps must see the core's packages")
                .contains("dev.pgha", "dev.pgha.dcs", "dev.pgha.postgres.local", "dev.pgha.fencing");
        assertThat(graph.get("dev.pgha")).contains("dev.pgha.dcs", "dev.pgha.postgres", "dev.pgha.cluster");
        assertThat(cycles(graph)).as("package cycles in pgha-core (package -> ... -> package); graph %s", graph)
                .isEmpty();
    }

    @Test
    void theCycleFinderFindsCycles() {
        Map<String, Set<String>> graph = new TreeMap<>(Map.of(
                "a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a", "d"), "d", Set.of(), "e", Set.of("e")));
        assertThat(cycles(graph)).containsExactlyInAnyOrder(List.of("a", "b", "c"), List.of("e"));
        assertThat(cycles(Map.of("a", Set.of("b"), "b", Set.of()))).isEmpty();
    }

    private static Path classesOf(Class<?> type) throws URISyntaxException {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** Package → packages it refers to, within {@code dev.pgha}, from {@code jdeps -verbose:package}. */
    static Map<String, Set<String>> packageGraph(Path classes) {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps")
                .orElseThrow(() -> new IllegalStateException("this JDK has no jdeps tool"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = jdeps.run(new PrintWriter(out), new PrintWriter(err),
                "-verbose:package", "-e", "dev\\.pgha.*", classes.toString());
        assertThat(status).as("jdeps failed: %s", err).isZero();
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String line : out.toString().split("\\R")) {
            Matcher m = EDGE.matcher(line);
            if (m.find()) {
                graph.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
                graph.computeIfAbsent(m.group(2), k -> new TreeSet<>());
            }
        }
        return graph;
    }

    /** The strongly connected components with more than one package, or with a self-edge (Tarjan). */
    static List<List<String>> cycles(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<List<String>> found = new ArrayList<>();
        int[] counter = {0};
        for (String v : new TreeSet<>(graph.keySet())) {
            if (!index.containsKey(v)) {
                connect(v, graph, index, low, stack, onStack, found, counter);
            }
        }
        return found;
    }

    private static void connect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
                                Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                List<List<String>> found, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]);
        counter[0]++;
        stack.push(v);
        onStack.add(v);
        for (String w : graph.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                connect(w, graph, index, low, stack, onStack, found, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            List<String> component = new ArrayList<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1 || graph.getOrDefault(v, Set.of()).contains(v)) {
                component.sort(null);
                found.add(component);
            }
        }
    }
}
