package dev.pgha.scenarios;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * What the engine logged while a piece of a scenario ran: slf4j-simple writes to standard error,
 * which is captured meanwhile (the tests of a module run one at a time).
 */
final class LogCapture {

    private LogCapture() {
    }

    /** The non-blank lines written to standard error while {@code run} ran. */
    static List<String> stderrLines(Runnable run) {
        PrintStream original = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            run.run();
        } finally {
            System.setErr(original);
        }
        return Arrays.stream(buffer.toString(StandardCharsets.UTF_8).split("\\R")).filter(l -> !l.isBlank()).toList();
    }
}
