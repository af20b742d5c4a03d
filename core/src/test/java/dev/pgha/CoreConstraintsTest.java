package dev.pgha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Rules the issue sets for {@code core/src/main/java}, checked on the source text:
 *
 * <ul>
 *   <li>Time comes only from {@link HaClock}: no file but {@code dev/pgha/SystemClock.java} reads the
 *       machine's clocks.</li>
 *   <li>The core creates no threads and never sleeps: no file (SystemClock included) sleeps, parks,
 *       starts threads, or uses executors, timers or the common pool.</li>
 *   <li>Every public type carries a Javadoc comment, and every exported
 *       package has a documented {@code package-info.java}.</li>
 *   <li>No file of the engine (the package-private classes of {@code dev/pgha}) is longer than {@value #MAX_ENGINE_FILE_LINES}
 *       lines: the engine reads as small decisions, not one god class.</li>
 * </ul>
 *
 * <p>Comments and string literals are blanked before matching, so prose that mentions a forbidden call
 * (HaClock's Javadoc names {@code System.currentTimeMillis()}) does not count. Every failure names the
 * file and line.
 */
class CoreConstraintsTest {

    static final int MAX_ENGINE_FILE_LINES = 400;
    static final int MAX_LOCAL_POSTGRES_FILE_LINES = 450;

    private static final String SYSTEM_CLOCK = "dev/pgha/SystemClock.java";
    /** The engine: Patroni's Ha class as package-private units beside the API in {@code dev.pgha}. */
    private static final String ENGINE_FILE = "dev/pgha/HaEngine.java";

    /** One forbidden construct: a pattern on comment- and string-free code, and why it is forbidden. */
    record Rule(String name, Pattern pattern, boolean readsTime, String why) {

        static Rule time(String name, String regex) {
            return new Rule(name, Pattern.compile(regex), true, "reads the machine clock; take time from HaClock");
        }

        static Rule blocking(String name, String regex) {
            return new Rule(name, Pattern.compile(regex), false, "blocks the cycle thread; the core never sleeps");
        }

        static Rule threads(String name, String regex) {
            return new Rule(name, Pattern.compile(regex), false,
                    "runs work on threads of its own; the core runs only on the host's thread");
        }
    }

    static final List<Rule> RULES = List.of(
            Rule.time("System.currentTimeMillis", "\\bSystem\\s*\\.\\s*currentTimeMillis\\b"),
            Rule.time("System.nanoTime", "\\bSystem\\s*\\.\\s*nanoTime\\b"),
            Rule.time("java.time now()", "\\b(?:Instant|LocalDateTime|LocalDate|LocalTime|OffsetDateTime"
                    + "|OffsetTime|ZonedDateTime|Year|YearMonth|MonthDay)\\s*\\.\\s*now\\s*\\("),
            Rule.time("Clock.system", "\\bClock\\s*\\.\\s*system"),
            Rule.blocking("Thread.sleep", "\\bThread\\s*\\.\\s*sleep\\b"),
            Rule.blocking("TimeUnit.*.sleep", "\\b(?:TimeUnit\\s*\\.\\s*)?(?:NANOSECONDS|MICROSECONDS|MILLISECONDS"
                    + "|SECONDS|MINUTES|HOURS|DAYS)\\s*\\.\\s*sleep\\s*\\("),
            Rule.blocking("LockSupport.park", "\\bLockSupport\\s*\\.\\s*park"),
            Rule.threads("new Thread(", "\\bnew\\s+Thread\\s*\\("),
            Rule.threads("extends Thread", "\\bextends\\s+Thread\\b"),
            Rule.threads("Executors.", "\\bExecutors\\s*\\."),
            Rule.threads("ExecutorService", "\\b\\w*ExecutorService\\b"),
            Rule.threads("ThreadPoolExecutor", "\\b\\w*ThreadPoolExecutor\\b"),
            Rule.threads("CompletableFuture.supplyAsync/runAsync",
                    "\\bCompletableFuture\\s*\\.\\s*(?:supplyAsync|runAsync)\\b"),
            Rule.threads("ForkJoinPool", "\\bForkJoinPool\\b"),
            Rule.threads("Timer(", "\\bTimer\\s*\\("));

    /** A broken rule at a place in a file. */
    record Finding(String file, int line, String message) {
        @Override
        public String toString() {
            return "core/src/main/java/" + file + ":" + line + ": " + message;
        }
    }

    /** A public type declaration found in a file. */
    record PublicType(String file, String name, int line, boolean topLevel, boolean documented) {
    }

    /** A comment in the original text: [start, end) and whether it is a Javadoc comment. */
    record Comment(int start, int end, boolean javadoc) {
    }

    /**
     * A Java file with its code separated from its prose: {@code code} has the same length and line
     * breaks as {@code text}, with every comment and every string, text-block and char literal blanked.
     */
    record JavaSource(String file, String text, String code, List<Comment> comments) {

        private static final Pattern TYPE_DECLARATION =
                Pattern.compile("(?<![\\w$.])(@\\s*interface|class|interface|enum|record)\\s+([A-Za-z_$][\\w$]*)");
        private static final Pattern ANNOTATION =
                Pattern.compile("@\\s*[\\w$.]+\\s*(?:\\((?:[^()]|\\([^()]*\\))*\\))?");

        static JavaSource parse(String file, String text) {
            char[] code = text.toCharArray();
            List<Comment> comments = new ArrayList<>();
            int i = 0;
            int n = text.length();
            while (i < n) {
                char c = text.charAt(i);
                if (text.startsWith("//", i)) {
                    int end = text.indexOf('\n', i);
                    end = end < 0 ? n : end;
                    comments.add(new Comment(i, end, false));
                    i = blank(code, i, end);
                } else if (text.startsWith("/*", i)) {
                    int close = text.indexOf("*/", i + 2);
                    int end = close < 0 ? n : close + 2;
                    boolean javadoc = text.startsWith("/**", i) && !text.startsWith("/**/", i);
                    comments.add(new Comment(i, end, javadoc));
                    i = blank(code, i, end);
                } else if (text.startsWith("\"\"\"", i)) {
                    i = blank(code, i, endOfLiteral(text, i + 3, "\"\"\""));
                } else if (c == '"') {
                    i = blank(code, i, endOfLiteral(text, i + 1, "\""));
                } else if (c == '\'') {
                    i = blank(code, i, endOfLiteral(text, i + 1, "'"));
                } else {
                    i++;
                }
            }
            return new JavaSource(file, text, new String(code), List.copyOf(comments));
        }

        /** Index just past the closing delimiter (honouring backslash escapes), or the end of the text. */
        private static int endOfLiteral(String text, int from, String close) {
            int i = from;
            while (i < text.length()) {
                if (text.charAt(i) == '\\') {
                    i += 2;
                } else if (text.startsWith(close, i)) {
                    return i + close.length();
                } else if (close.length() == 1 && text.charAt(i) == '\n') {
                    return i; // unterminated: stop at the line end rather than swallow the file
                } else {
                    i++;
                }
            }
            return text.length();
        }

        private static int blank(char[] code, int from, int to) {
            for (int i = from; i < to; i++) {
                if (code[i] != '\n') {
                    code[i] = ' ';
                }
            }
            return to;
        }

        int lineOf(int index) {
            int line = 1;
            for (int i = 0; i < index; i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                }
            }
            return line;
        }

        /** Uses of forbidden constructs; with {@code allowTime}, the clock rules are skipped. */
        List<Finding> forbiddenConstructs(boolean allowTime) {
            List<Finding> out = new ArrayList<>();
            for (Rule rule : RULES) {
                if (allowTime && rule.readsTime()) {
                    continue;
                }
                Matcher m = rule.pattern().matcher(code);
                while (m.find()) {
                    out.add(new Finding(file, lineOf(m.start()),
                            "uses " + rule.name() + " ('" + m.group().strip() + "'): " + rule.why()));
                }
            }
            out.sort(Comparator.comparingInt(Finding::line));
            return out;
        }

        /**
         * Types declared {@code public}: top-level ones and nested ones with an explicit {@code public}
         * modifier. A type is documented when a Javadoc comment directly precedes its declaration;
         * annotations may stand between, as javadoc allows.
         */
        List<PublicType> publicTypes() {
            int[] depth = new int[code.length() + 1];
            int[] headerStart = new int[code.length() + 1];
            int braces = 0;
            int parens = 0;
            int boundary = 0;
            for (int i = 0; i < code.length(); i++) {
                depth[i] = braces;
                headerStart[i] = boundary;
                char c = code.charAt(i);
                if (c == '(') {
                    parens++;
                } else if (c == ')') {
                    parens = Math.max(0, parens - 1);
                } else if (parens == 0 && (c == '{' || c == '}' || c == ';')) {
                    braces += c == '{' ? 1 : c == '}' ? -1 : 0;
                    boundary = i + 1;
                }
            }
            List<PublicType> out = new ArrayList<>();
            Matcher m = TYPE_DECLARATION.matcher(code);
            while (m.find()) {
                if (m.group(1).equals("record") && !code.substring(m.end()).stripLeading().matches("(?s)[(<].*")) {
                    continue; // "record" used as an identifier
                }
                String header = code.substring(headerStart[m.start()], m.start());
                String modifiers = ANNOTATION.matcher(header).replaceAll(" ");
                if (List.of(modifiers.trim().split("\\s+")).contains("public")) {
                    int firstToken = headerStart[m.start()] + leadingBlanks(header);
                    out.add(new PublicType(file, m.group(2), lineOf(m.start()), depth[m.start()] == 0,
                            javadocEndsDirectlyBefore(firstToken)));
                }
            }
            return out;
        }

        /** The public types without Javadoc, as findings. */
        List<Finding> undocumentedPublicTypes() {
            return publicTypes().stream().filter(t -> !t.documented())
                    .map(t -> new Finding(file, t.line(), (t.topLevel() ? "public top-level type " : "public nested type ")
                            + t.name() + " has no Javadoc comment directly before its declaration"))
                    .collect(Collectors.toList());
        }

        /** Whether the package declaration (with its annotations) is preceded by a Javadoc comment. */
        boolean hasDocumentedPackage() {
            Matcher m = Pattern.compile("\\bpackage\\s+[\\w.]+\\s*;").matcher(code);
            return m.find() && javadocEndsDirectlyBefore(leadingBlanks(code.substring(0, m.start())));
        }

        private static int leadingBlanks(String s) {
            int i = 0;
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            return i;
        }

        /** Whether a Javadoc comment ends at {@code index}, with only whitespace between. */
        private boolean javadocEndsDirectlyBefore(int index) {
            Comment last = null;
            for (Comment comment : comments) {
                if (comment.end() <= index) {
                    last = comment;
                }
            }
            return last != null && last.javadoc() && text.substring(last.end(), index).isBlank();
        }
    }

    private static Path coreMainJava;
    private static List<JavaSource> sources;

    @BeforeAll
    static void readSources() throws IOException {
        coreMainJava = locateCoreMainJava();
        try (Stream<Path> files = Files.walk(coreMainJava)) {
            sources = files.filter(p -> p.toString().endsWith(".java")).sorted().map(CoreConstraintsTest::read)
                    .collect(Collectors.toList());
        }
    }

    /**
     * Finds {@code core/src/main/java} from surefire's {@code basedir} or the working directory (the
     * module directory under Maven, the repository root in some IDEs), walking up if needed.
     */
    static Path locateCoreMainJava() {
        Set<Path> starts = new LinkedHashSet<>();
        String basedir = System.getProperty("basedir");
        if (basedir != null && !basedir.isBlank()) {
            starts.add(Path.of(basedir).toAbsolutePath());
        }
        starts.add(Path.of("").toAbsolutePath());
        for (Path start : starts) {
            for (Path dir = start; dir != null; dir = dir.getParent()) {
                for (Path candidate : List.of(dir.resolve("src/main/java"), dir.resolve("core/src/main/java"))) {
                    if (Files.isRegularFile(candidate.resolve("dev/pgha/HaClock.java"))) {
                        return candidate.normalize();
                    }
                }
            }
        }
        throw new IllegalStateException("cannot find core/src/main/java (looked upwards from " + starts + ")");
    }

    private static JavaSource read(Path path) {
        String relative = coreMainJava.relativize(path).toString().replace('\\', '/');
        try {
            return JavaSource.parse(relative, Files.readString(path, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String report(List<Finding> findings) {
        return findings.stream().map(Finding::toString).collect(Collectors.joining("\n  ", "\n  ", "\n"));
    }

    @Test
    void scanCoversTheWholeCore() {
        assertThat(sources).extracting(JavaSource::file)
                .contains(SYSTEM_CLOCK, "dev/pgha/HaClock.java", "dev/pgha/HaConfig.java",
                        "dev/pgha/cluster/ClusterView.java", "dev/pgha/dcs/DcsClient.java",
                        "dev/pgha/postgres/PostgresProcess.java");
        assertThat(sources).anySatisfy(s -> assertThat(s.file()).isEqualTo(ENGINE_FILE));
    }

    @Test
    void onlySystemClockReadsTheMachineClock() {
        List<Finding> findings = sources.stream()
                .flatMap(s -> s.forbiddenConstructs(s.file().equals(SYSTEM_CLOCK)).stream())
                .collect(Collectors.toList());
        assertThat(findings).as("the core must take time from HaClock and must not sleep or start threads:%s",
                report(findings)).isEmpty();
    }

    @Test
    void systemClockReallyIsWhereTheClockIsRead() {
        // Guards the exemption: SystemClock must be the place that reads time, and the rules must see it.
        JavaSource clock = sources.stream().filter(s -> s.file().equals(SYSTEM_CLOCK)).findFirst().orElseThrow();
        assertThat(clock.forbiddenConstructs(false)).extracting(Finding::message)
                .anySatisfy(msg -> assertThat(msg).contains("System.nanoTime"))
                .anySatisfy(msg -> assertThat(msg).contains("Instant.now("));
    }

    @Test
    void publicTypesOutsideTheEngineHaveJavadoc() {
        List<Finding> findings = sources.stream()
                .filter(s -> !s.file().endsWith("package-info.java") && !s.file().endsWith("module-info.java"))
                .flatMap(s -> s.undocumentedPublicTypes().stream())
                .collect(Collectors.toList());
        assertThat(findings).as("every public API type needs Javadoc:%s", report(findings)).isEmpty();
    }

    @Test
    void javadocCheckSeesTheRealApiTypes() {
        // Guards against a parser that silently finds nothing: known API types, top-level and nested.
        List<PublicType> types = sources.stream()
                .flatMap(s -> s.publicTypes().stream()).collect(Collectors.toList());
        assertThat(types).filteredOn(PublicType::topLevel).extracting(PublicType::name)
                .contains("HaConfig", "HaController", "CycleResult", "CycleAction", "HaClock", "LeaseGuard",
                        "ClusterView", "DcsClient", "DcsException", "PostgresProcess", "PostgresState", "Lsn")
                .doesNotContain("SystemClock", "HaEngine", "Node", "Election");
        assertThat(types).filteredOn(t -> !t.topLevel()).extracting(PublicType::name)
                .contains("Builder", "Reason", "Entry");
    }

    @Test
    void exportedPackagesHaveDocumentedPackageInfo() {
        Set<String> packages = sources.stream()
                .map(s -> s.file().substring(0, s.file().lastIndexOf('/'))).collect(Collectors.toSet());
        List<String> missing = new ArrayList<>();
        for (String pkg : packages) {
            String info = pkg + "/package-info.java";
            boolean documented = sources.stream().filter(s -> s.file().equals(info)).findFirst()
                    .map(JavaSource::hasDocumentedPackage).orElse(false);
            if (!documented) {
                missing.add("core/src/main/java/" + info + ": missing, or the package declaration has no Javadoc");
            }
        }
        assertThat(missing).as("exported packages need a documented package-info.java").isEmpty();
    }

    /** A file directly in {@code dev/pgha} whose top-level type is not public: a unit of the engine. */
    private static boolean isEngineFile(JavaSource s) {
        return s.file().startsWith("dev/pgha/") && s.file().indexOf('/', "dev/pgha/".length()) < 0
                && !s.file().endsWith("package-info.java")
                && s.publicTypes().stream().noneMatch(PublicType::topLevel);
    }

    @Test
    void engineFilesStaySmall() throws IOException {
        List<String> tooLong = new ArrayList<>();
        for (JavaSource s : sources) {
            if (isEngineFile(s)) {
                long lines = Files.readAllLines(coreMainJava.resolve(s.file()), StandardCharsets.UTF_8).size();
                if (lines > MAX_ENGINE_FILE_LINES) {
                    tooLong.add("core/src/main/java/" + s.file() + ": " + lines + " lines (limit "
                            + MAX_ENGINE_FILE_LINES + ")");
                }
            }
        }
        assertThat(sources.stream().filter(CoreConstraintsTest::isEngineFile)).hasSizeGreaterThan(10);
        assertThat(tooLong).as("no class in the engine over ~400 lines: split it by concern").isEmpty();
    }

    @Test
    void localPostgresFilesStaySmall() throws IOException {
        // LocalPostgres is split into small package-private classes, like the engine.
        List<String> tooLong = new ArrayList<>();
        for (JavaSource s : sources) {
            if (s.file().startsWith("dev/pgha/postgres/local/")) {
                long lines = Files.readAllLines(coreMainJava.resolve(s.file()), StandardCharsets.UTF_8).size();
                if (lines > MAX_LOCAL_POSTGRES_FILE_LINES) {
                    tooLong.add("core/src/main/java/" + s.file() + ": " + lines + " lines (limit "
                            + MAX_LOCAL_POSTGRES_FILE_LINES + ")");
                }
            }
        }
        assertThat(sources).anySatisfy(s -> assertThat(s.file()).isEqualTo("dev/pgha/postgres/local/LocalPostgres.java"));
        assertThat(tooLong).as("no class of LocalPostgres over ~400 lines: split it by concern").isEmpty();
    }

    /** The scanner itself, on planted sources: it must catch what it is meant to catch, and only that. */
    @Nested
    class Scanner {

        @Test
        void catchesAPlantedClockReadWithItsLine() {
            JavaSource s = JavaSource.parse("x/Planted.java", String.join("\n",
                    "package x;",
                    "class Planted {",
                    "    long now() { return System.currentTimeMillis(); }",
                    "    java.time.Instant wall() { return java.time.Instant.now(); }",
                    "}"));
            List<Finding> findings = s.forbiddenConstructs(false);
            assertThat(findings).extracting(Finding::line).containsExactly(3, 4);
            assertThat(findings.get(0).message()).startsWith("uses System.currentTimeMillis");
            assertThat(findings.get(1).message()).startsWith("uses java.time now() ('Instant.now(')");
            assertThat(s.forbiddenConstructs(false).get(0).toString())
                    .startsWith("core/src/main/java/x/Planted.java:3: uses System.currentTimeMillis");
            assertThat(s.forbiddenConstructs(true)).isEmpty();
        }

        @Test
        void catchesEveryForbiddenConstruct() {
            String[] planted = {
                "System.nanoTime()", "LocalDateTime.now()", "OffsetDateTime.now()", "ZonedDateTime.now()",
                "Clock.systemUTC()", "java.time.Clock.systemDefaultZone()", "Thread.sleep(10)",
                "TimeUnit.SECONDS.sleep(1)", "MILLISECONDS.sleep(5)", "LockSupport.parkNanos(5)",
                "new Thread(r)", "Executors.newSingleThreadExecutor()", "ExecutorService pool",
                "ScheduledExecutorService pool", "new ThreadPoolExecutor(1, 1, 0, null, null)",
                "CompletableFuture.supplyAsync(s)", "CompletableFuture.runAsync(r)",
                "ForkJoinPool.commonPool()", "new java.util.Timer()", "class T extends Thread {}",
            };
            for (String snippet : planted) {
                JavaSource s = JavaSource.parse("x/P.java", "class P {\n  void f() { " + snippet + "; }\n}\n");
                assertThat(s.forbiddenConstructs(false)).as(snippet).isNotEmpty()
                        .allSatisfy(f -> assertThat(f.line()).isEqualTo(2));
            }
        }

        @Test
        void ignoresCommentsStringsAndLookalikes() {
            JavaSource s = JavaSource.parse("x/Quiet.java", String.join("\n",
                    "package x;",
                    "/** Like {@link System#currentTimeMillis()} and System.nanoTime(), but injected. */",
                    "class Quiet {",
                    "    // Thread.sleep(1000) would block the cycle",
                    "    /* new Thread(() -> {}) */",
                    "    String a = \"Instant.now() and Executors.newFixedThreadPool(2)\";",
                    "    String b = \"escaped \\\" Thread.sleep(1)\";",
                    "    char q = '\"'; String c = \"ForkJoinPool\";",
                    "    String d = \"\"\"",
                    "        Timer() in a text block, System.currentTimeMillis()",
                    "        \"\"\";",
                    "    HaClock clock = HaClock.system();",
                    "    void startTimer() { resetTimer(); }",
                    "    Object executorServiceName;",
                    "}"));
            assertThat(s.forbiddenConstructs(false)).isEmpty();
            assertThat(s.code()).hasSameSizeAs(s.text());
            assertThat(s.code().lines().count()).isEqualTo(s.text().lines().count());
        }

        @Test
        void findsUndocumentedPublicTypes() {
            JavaSource s = JavaSource.parse("x/Types.java", String.join("\n",
                    "package x;",
                    "import java.util.List;",
                    "/* a plain comment is not Javadoc */",
                    "public final class Types {",
                    "    /** Documented. */",
                    "    public static final class Builder { }",
                    "    public enum Mode { A, B }",
                    "    static class Hidden { }",
                    "    Object o = Types.class;",
                    "}"));
            assertThat(s.undocumentedPublicTypes()).extracting(Finding::line, Finding::message).containsExactly(
                    tuple(4,
                            "public top-level type Types has no Javadoc comment directly before its declaration"),
                    tuple(7,
                            "public nested type Mode has no Javadoc comment directly before its declaration"));
        }

        @Test
        void acceptsJavadocWithAnnotationsBetween() {
            JavaSource s = JavaSource.parse("x/Api.java", String.join("\n",
                    "package x;",
                    "",
                    "/**",
                    " * The API.",
                    " */",
                    "@FunctionalInterface",
                    "@SuppressWarnings({\"unchecked\", \"rawtypes\"})",
                    "public interface Api {",
                    "    void run();",
                    "}",
                    "/** A record. */",
                    "public record Point(int x, int y) { }",
                    "/** An annotation. */ public @interface Marker { }"));
            assertThat(s.undocumentedPublicTypes()).isEmpty();
        }

        @Test
        void javadocSeparatedByCodeDoesNotCount() {
            JavaSource s = JavaSource.parse("x/Gap.java", String.join("\n",
                    "package x;",
                    "/** Belongs to the import, not the class. */",
                    "import java.util.List;",
                    "public record Gap(List<String> items) { }"));
            assertThat(s.undocumentedPublicTypes()).extracting(Finding::line).containsExactly(4);
        }

        @Test
        void checksPackageInfoJavadoc() {
            assertThat(JavaSource.parse("x/package-info.java", "/** Docs. */\npackage x;\n").hasDocumentedPackage())
                    .isTrue();
            assertThat(JavaSource.parse("x/package-info.java", "// none\npackage x;\n").hasDocumentedPackage())
                    .isFalse();
        }

        @Test
        void findsTheCoreSourcesFromTheWorkingDirectory() {
            assertThat(locateCoreMainJava().resolve("dev/pgha/HaClock.java")).isRegularFile();
        }
    }
}
