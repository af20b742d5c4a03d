package dev.pgha.cluster;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code history} key: one entry per timeline switch, as the leader copies it from
 * PostgreSQL's {@code .history} files, enriched with when and to whom it happened.
 *
 * @param entries oldest first
 */
public record TimelineHistory(List<Entry> entries) {

    /** No timeline switch has happened (the cluster is on timeline 1). */
    public static final TimelineHistory EMPTY = new TimelineHistory(List.of());

    private static final DateTimeFormatter TO_SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss",
            Locale.ROOT);

    /** Copies the entries. */
    public TimelineHistory {
        entries = List.copyOf(Objects.requireNonNullElse(entries, List.of()));
    }

    /**
     * The cluster's timeline as Patroni derives it: the last entry's timeline plus one, or 0
     * (unknown) when there are no entries.
     */
    public long clusterTimeline() {
        return entries.isEmpty() ? 0 : entries.get(entries.size() - 1).timeline() + 1;
    }

    /** The entry that ended the given timeline, if the history has it. */
    public Optional<Entry> switchOf(long timeline) {
        return entries.stream().filter(e -> e.timeline() == timeline).findFirst();
    }

    /**
     * The timestamp of a timeline switch as Patroni writes it in the {@code history} key: Python's
     * {@code datetime.isoformat()} of the time in UTC, e.g. {@code 2023-05-04T10:11:12.123456+00:00}:
     * microseconds (cut, not rounded; left out when zero, as Python does) and the offset as
     * {@code +00:00}, never {@code Z}.
     *
     * @param instant when the switch happened
     * @return the text to store as the entry's {@link Entry#timestamp()}
     */
    public static String formatTimestamp(Instant instant) {
        OffsetDateTime utc = instant.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
        StringBuilder text = new StringBuilder(TO_SECONDS.format(utc));
        int micros = utc.getNano() / 1000;
        if (micros != 0) {
            text.append('.').append(String.format(Locale.ROOT, "%06d", micros));
        }
        return text.append("+00:00").toString();
    }

    /**
     * Reads a timestamp of the {@code history} key: ISO-8601 with an offset, as Patroni writes it
     * ({@code +00:00}, or the host's offset, e.g. {@code +02:00}) or with {@code Z} (as earlier pgha
     * builds wrote it), with or without fractional seconds.
     *
     * @return the time, or empty when {@code text} is null or not such a timestamp
     */
    public static Optional<OffsetDateTime> parseTimestamp(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(OffsetDateTime.parse(text.strip(), DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** This history with one more entry appended. */
    public TimelineHistory append(Entry entry) {
        var copy = new java.util.ArrayList<>(entries);
        copy.add(entry);
        return new TimelineHistory(copy);
    }

    /**
     * One timeline switch.
     *
     * @param timeline  the timeline that ended
     * @param switchLsn where it ended (the new timeline starts there), as a byte position
     * @param reason    PostgreSQL's reason text
     * @param timestamp time of the promotion as stored, when known (nullable): pgha writes
     *                  {@link #formatTimestamp(Instant) Patroni's format}, and keeps what it reads
     * @param newLeader the member promoted, when known (nullable)
     */
    public record Entry(long timeline, long switchLsn, String reason, String timestamp, String newLeader) {

        /** The {@link #timestamp()} as a time (see {@link #parseTimestamp}); empty when absent or unreadable. */
        public Optional<OffsetDateTime> time() {
            return parseTimestamp(timestamp);
        }
    }
}
