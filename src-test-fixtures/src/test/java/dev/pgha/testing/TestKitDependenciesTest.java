package dev.pgha.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The test kit leaves the JUnit version to its users: the published POM passes no JUnit artifact
 * on to a consumer (a {@code compile} or {@code runtime} JUnit dependency would sit next to the
 * user's own JUnit 5 and mix two versions of the platform on one class path), and the kit's
 * classes use only the plain Jupiter API (three annotations and {@code Assertions}), no extension,
 * engine or platform class, so any JUnit 5 the user runs them with will do (the README says from
 * which version on).
 */
class TestKitDependenciesTest {

    /** What the kit's main classes may use from JUnit. */
    private static final Set<String> PLAIN_JUPITER_API = Set.of("org.junit.jupiter.api.Test",
            "org.junit.jupiter.api.BeforeEach", "org.junit.jupiter.api.AfterEach", "org.junit.jupiter.api.Assertions");
    private static final String ASSERTIONS = "org.junit.jupiter.api.Assertions";
    private static final Pattern JUNIT_REFERENCE = Pattern.compile("\\b(org\\.junit(?:\\.[A-Za-z_][\\w]*)+)");

    @Test
    void noJunitArtifactIsPassedOnToConsumers() throws Exception {
        var pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(moduleDir().resolve("pom.xml")
                .toFile()).getDocumentElement();
        List<String> inherited = new ArrayList<>();
        int junit = 0;
        for (Element dependency : children(child(pom, "dependencies"), "dependency")) {
            if (!text(dependency, "groupId").startsWith("org.junit")) {
                continue;
            }
            junit++;
            String scope = text(dependency, "scope");
            boolean passedOn = (scope.isEmpty() || scope.equals("compile") || scope.equals("runtime"))
                    && !text(dependency, "optional").equals("true");
            if (passedOn) {
                inherited.add(text(dependency, "artifactId") + (scope.isEmpty() ? "" : ":" + scope));
            }
        }
        assertThat(junit).as("the kit compiles its contract suites against junit-jupiter-api").isPositive();
        assertThat(inherited).as("JUnit artifacts a consumer of pgha-test-fixtures would inherit").isEmpty();
    }

    @Test
    void mainClassesUseOnlyThePlainJupiterApi() throws IOException {
        Set<String> used = new TreeSet<>();
        try (Stream<Path> files = Files.walk(moduleDir().resolve("src/main/java"))) {
            for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = JUNIT_REFERENCE.matcher(Files.readString(file));
                while (m.find()) {
                    String type = m.group(1);
                    used.add(type.startsWith(ASSERTIONS + ".") ? ASSERTIONS : type); // static imports
                }
            }
        }
        assertThat(used).as("JUnit types the kit's classes refer to (the README names the JUnit they need)")
                .isNotEmpty().isSubsetOf(PLAIN_JUPITER_API);
    }

    /** The module directory: surefire's {@code basedir}, else the working directory or its {@code src-test-fixtures}. */
    private static Path moduleDir() {
        String basedir = System.getProperty("basedir");
        List<Path> candidates = new ArrayList<>();
        if (basedir != null && !basedir.isBlank()) {
            candidates.add(Path.of(basedir));
        }
        candidates.add(Path.of(""));
        candidates.add(Path.of("src-test-fixtures"));
        for (Path dir : candidates) {
            if (Files.isRegularFile(dir.resolve("src/main/java/dev/pgha/testing/DcsClientContractTest.java"))) {
                return dir.toAbsolutePath();
            }
        }
        throw new IllegalStateException("cannot find the src-test-fixtures module from " + candidates);
    }

    private static Element child(Element parent, String name) {
        List<Element> found = children(parent, name);
        assertThat(found).as("<%s> in <%s>", name, parent.getTagName()).hasSize(1);
        return found.get(0);
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node n = nodes.item(i);
            if (n instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element parent, String name) {
        List<Element> found = children(parent, name);
        return found.isEmpty() ? "" : found.get(0).getTextContent().strip();
    }
}
