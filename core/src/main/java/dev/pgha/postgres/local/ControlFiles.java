package dev.pgha.postgres.local;

import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for what PostgreSQL writes about its WAL: {@code pg_controldata} output, the
 * {@code prev} pointer in a {@code pg_waldump} line, and the {@code .history} files in
 * {@code pg_wal}.
 */
final class ControlFiles {

    private static final Pattern PREV = Pattern.compile("\\bprev ([0-9A-Fa-f]+/[0-9A-Fa-f]+)");

    private ControlFiles() {
    }

    /**
     * Parses {@code pg_controldata} output (run with {@code LC_ALL=C}).
     *
     * @throws PostgresException when the output has no cluster state (not pg_controldata's)
     */
    static ControlData parse(String member, String output) {
        Map<String, String> raw = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                raw.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
            }
        }
        String state = raw.get("Database cluster state");
        if (state == null) {
            throw new PostgresException(member + ": pg_controldata gave no cluster state: " + firstLine(output));
        }
        return new ControlData(state, raw.get("Database system identifier"),
                number(raw.get("Latest checkpoint's TimeLineID")), lsn(raw.get("Latest checkpoint location")),
                lsn(raw.get("Minimum recovery ending location")), number(raw.get("Min recovery ending loc's timeline")),
                raw);
    }

    /** The {@code prev} location of the first record {@code pg_waldump} printed. */
    static Optional<Lsn> previousRecord(String waldumpOutput) {
        Matcher m = PREV.matcher(waldumpOutput);
        if (!m.find()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Lsn.parse(m.group(1)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * The timeline switches that led to {@code timeline}, oldest first, from
     * {@code pg_wal/<timeline>.history}; empty on timeline 1 or when the file is missing.
     */
    static List<TimelineHistory.Entry> history(Path dataDir, long timeline) throws IOException {
        if (timeline <= 1) {
            return List.of();
        }
        Path file = dataDir.resolve("pg_wal").resolve(String.format(Locale.ROOT, "%08X.history", timeline));
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<TimelineHistory.Entry> out = new ArrayList<>();
        for (String line : lines) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] parts = l.split("\\s+", 3);
            if (parts.length < 2) {
                continue;
            }
            try {
                out.add(new TimelineHistory.Entry(Long.parseLong(parts[0]), Lsn.parse(parts[1]).value(),
                        parts.length > 2 ? parts[2].strip() : "", null, null));
            } catch (IllegalArgumentException e) {
                // a line that is not a switch point: skip it
            }
        }
        return out;
    }

    private static long number(String value) {
        if (value == null) {
            return 0;
        }
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static Lsn lsn(String value) {
        if (value == null) {
            return Lsn.ZERO;
        }
        try {
            return Lsn.parse(value);
        } catch (IllegalArgumentException e) {
            return Lsn.ZERO;
        }
    }

    private static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
