package dev.pgha.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code history} key's timestamps in Patroni's format, and the cluster timeline it gives. */
class TimelineHistoryTest {

    @Test
    void timestampsAreWrittenAsPythonsIsoformatInUtc() {
        // what Patroni writes: 2023-05-04T10:11:12.123456+00:00, never a Z
        assertThat(TimelineHistory.formatTimestamp(Instant.parse("2023-05-04T10:11:12.123456Z")))
                .isEqualTo("2023-05-04T10:11:12.123456+00:00");
        assertThat(TimelineHistory.formatTimestamp(Instant.parse("2023-05-04T10:11:12.123456789Z")))
                .as("nanoseconds are cut to microseconds, as Python keeps them").isEqualTo("2023-05-04T10:11:12.123456+00:00");
        assertThat(TimelineHistory.formatTimestamp(Instant.parse("2023-05-04T10:11:12.120Z")))
                .as("always six digits").isEqualTo("2023-05-04T10:11:12.120000+00:00");
        assertThat(TimelineHistory.formatTimestamp(Instant.parse("2023-05-04T10:11:12Z")))
                .as("no fraction on a whole second, as isoformat() writes it").isEqualTo("2023-05-04T10:11:12+00:00");
        assertThat(TimelineHistory.formatTimestamp(Instant.parse("2023-05-04T10:11:12.000000999Z")))
                .isEqualTo("2023-05-04T10:11:12+00:00");
        assertThat(TimelineHistory.formatTimestamp(Instant.parse("0999-01-02T03:04:05.000001Z")))
                .isEqualTo("0999-01-02T03:04:05.000001+00:00");
    }

    @Test
    void timestampsAreReadInPatronisFormatAndWithAZ() {
        OffsetDateTime expected = OffsetDateTime.of(2026, 11, 21, 13, 20, 37, 104383000, ZoneOffset.UTC);

        assertThat(TimelineHistory.parseTimestamp("2026-11-21T13:20:37.104383+00:00")).contains(expected);
        assertThat(TimelineHistory.parseTimestamp("2026-11-21T13:20:37.104383Z").orElseThrow().toInstant())
                .isEqualTo(expected.toInstant());
        assertThat(TimelineHistory.parseTimestamp("2026-11-21T13:20:37.104383342Z").orElseThrow().toInstant())
                .as("what earlier pgha builds wrote").isEqualTo(expected.toInstant().plusNanos(342));
        assertThat(TimelineHistory.parseTimestamp("2026-11-21T15:20:37.104383+02:00").orElseThrow().toInstant())
                .as("Patroni on a host in another time zone").isEqualTo(expected.toInstant());
        assertThat(TimelineHistory.parseTimestamp("2026-11-21T13:20:37+00:00")).contains(expected.withNano(0));
        assertThat(TimelineHistory.parseTimestamp("yesterday")).isEmpty();
        assertThat(TimelineHistory.parseTimestamp("2026-11-21T13:20:37")).as("no offset").isEmpty();
        assertThat(TimelineHistory.parseTimestamp(null)).isEmpty();

        Instant now = Instant.parse("2026-11-21T13:20:37.104383Z");
        assertThat(TimelineHistory.parseTimestamp(TimelineHistory.formatTimestamp(now)).orElseThrow().toInstant())
                .isEqualTo(now);
    }

    @Test
    void anEntrysTimeIsItsTimestampRead() {
        var patroni = new TimelineHistory.Entry(1, 100, "r", "2026-11-21T13:20:37.104383+00:00", "node2");
        var zulu = new TimelineHistory.Entry(1, 100, "r", "2026-11-21T13:20:37.104383Z", "node2");

        assertThat(patroni.time().orElseThrow().toInstant()).isEqualTo(zulu.time().orElseThrow().toInstant());
        assertThat(new TimelineHistory.Entry(1, 100, "r", null, null).time()).isEmpty();
        assertThat(new TimelineHistory(List.of(patroni)).clusterTimeline()).isEqualTo(2);
    }
}
