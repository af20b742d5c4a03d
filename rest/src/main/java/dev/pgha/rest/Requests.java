package dev.pgha.rest;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The readers of request values as Patroni's API reads them: schedules ({@code parse_schedule}),
 * timeouts ({@code parse_int(value, 's')}) and booleans ({@code parse_bool}).
 */
final class Requests {

    private static final Pattern DURATION = Pattern.compile("\\s*(-?\\d+(?:\\.\\d+)?)\\s*([a-z]*)\\s*");
    /** ISO 8601, with {@code T} or a space between date and time, seconds and fraction optional. */
    private static final DateTimeFormatter DATE_TIME = new DateTimeFormatterBuilder().parseCaseInsensitive()
            .append(DateTimeFormatter.ISO_LOCAL_DATE).optionalStart().appendLiteral('T').optionalEnd()
            .optionalStart().appendLiteral(' ').optionalEnd()
            .appendValue(ChronoField.HOUR_OF_DAY, 2).appendLiteral(':').appendValue(ChronoField.MINUTE_OF_HOUR, 2)
            .optionalStart().appendLiteral(':').appendValue(ChronoField.SECOND_OF_MINUTE, 2)
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd().optionalEnd()
            .optionalStart().appendOffset("+HH:MM", "Z").optionalEnd()
            .optionalStart().appendOffset("+HHMM", "Z").optionalEnd()
            .optionalStart().appendOffset("+HH", "Z").optionalEnd()
            .toFormatter(Locale.ROOT);

    private Requests() {
    }

    /** A schedule that could not be used: the status code and Patroni's message. */
    static final class BadSchedule extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        BadSchedule(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /**
     * The time of a {@code schedule} / {@code scheduled_at} value.
     *
     * @param action "restart", "switchover" or "failover", for the messages
     * @throws BadSchedule 400 without a time zone, 422 unparseable or in the past
     */
    static Instant schedule(Object value, String action, Instant now) throws BadSchedule {
        if (value instanceof String text) {
            try {
                Instant at = OffsetDateTime.parse(text.strip(), DATE_TIME).toInstant();
                if (at.isBefore(now)) {
                    throw new BadSchedule(422, "Cannot schedule " + action + " in the past");
                }
                return at;
            } catch (DateTimeParseException e) {
                try {
                    LocalDateTime.parse(text.strip(), DATE_TIME);
                    throw new BadSchedule(400, "Timezone information is mandatory for the scheduled " + action);
                } catch (DateTimeParseException notLocal) {
                    // fall through to the generic message
                }
            }
        }
        throw new BadSchedule(422,
                "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601");
    }

    /**
     * A duration as Patroni's {@code parse_int(value, 's')}: a number of seconds, or a number with
     * a unit {@code ms}, {@code s}, {@code min}, {@code h}, {@code d}; null when unreadable.
     */
    static Duration seconds(Object value) {
        String text = value instanceof Number || value instanceof String ? String.valueOf(value) : "";
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            return null;
        }
        BigDecimal n = new BigDecimal(m.group(1));
        BigDecimal millis = switch (m.group(2)) {
            case "", "s" -> n.movePointRight(3);
            case "ms" -> n;
            case "min" -> n.multiply(BigDecimal.valueOf(60_000));
            case "h" -> n.multiply(BigDecimal.valueOf(3_600_000));
            case "d" -> n.multiply(BigDecimal.valueOf(86_400_000));
            default -> null;
        };
        if (millis == null) {
            return null;
        }
        long whole = millis.divide(BigDecimal.valueOf(1000), 0, java.math.RoundingMode.HALF_EVEN).longValue();
        return Duration.ofSeconds(whole);
    }

    /** Patroni's {@code parse_bool}: true for {@code true}, {@code yes}, {@code on}, {@code 1} (any case). */
    static boolean bool(Object value) {
        if (value instanceof Boolean b) {
            return b;
        }
        String text = String.valueOf(value).strip().toLowerCase(Locale.ROOT);
        return text.equals("true") || text.equals("yes") || text.equals("on") || text.equals("1");
    }
}
