package dev.pgha;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.Divergence.Verdict;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.cluster.TimelineHistory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Divergence}'s decision table: whether this node's data went past the point where the
 * leader's timeline forked off (rewind or re-clone: NEED), can follow as it is (NOT_NEED), or
 * cannot be judged now (UNKNOWN).
 *
 * <p>Columns:
 * <ul>
 *   <li><b>mine</b>: this data directory: {@code tl=} its timeline, {@code at=} where its WAL ends,
 *       {@code primary} when it was last a primary (its position is then the start of its
 *       shutdown checkpoint), {@code history=} its own {@code .history} switches.</li>
 *   <li><b>me / known</b>: this node's name, and who created the timeline it is on as this node
 *       saw it ({@code tl@creator}); {@code -} for none (then the short form of
 *       {@link Divergence#check} is used when both are {@code -}).</li>
 *   <li><b>leader</b>: the leader's member key: {@code primary}/{@code replica},
 *       {@code stopped}, {@code tl=} (or {@code tl=none}); {@code none} for no member key.</li>
 *   <li><b>cluster history</b>: the {@code history} key, entries {@code timeline@switch[:newLeader]}
 *       separated by spaces.</li>
 * </ul>
 */
class DivergenceTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            # situation                                                        | mine                          | me   | known        | leader                | cluster history         | verdict
            no leader member key                                               | tl=1 at=100                   | -    | -            | none                  | 1@200                   | UNKNOWN
            the leader's timeline is not known                                 | tl=1 at=100                   | -    | -            | primary tl=none       | 1@200                   | UNKNOWN
            the leader is not running as primary (still promoting)             | tl=1 at=100                   | -    | -            | replica tl=2          | 1@200                   | UNKNOWN
            the leader's PostgreSQL is stopped                                 | tl=1 at=100                   | -    | -            | stopped primary tl=2  | 1@200                   | UNKNOWN
            on the leader's timeline                                           | tl=2 at=900                   | -    | -            | primary tl=2          | 1@200                   | NOT_NEED
            on a timeline after the leader's                                   | tl=3 at=100                   | -    | -            | primary tl=2          | 1@200                   | NEED
            after the leader's timeline, even where the history has that one  | tl=3 at=50                    | -    | -            | primary tl=2          | 1@10 2@20 3@100         | NEED
            replica behind the fork                                            | tl=1 at=150                   | -    | -            | primary tl=2          | 1@200                   | NOT_NEED
            replica exactly at the fork                                        | tl=1 at=200                   | -    | -            | primary tl=2          | 1@200                   | NOT_NEED
            replica past the fork                                              | tl=1 at=201                   | -    | -            | primary tl=2          | 1@200                   | NEED
            former primary whose shutdown checkpoint is at the fork            | tl=1 at=200 primary           | -    | -            | primary tl=2          | 1@200                   | NEED
            former primary shut down before the fork                           | tl=1 at=199 primary           | -    | -            | primary tl=2          | 1@200                   | NOT_NEED
            positions compare unsigned (a position past 2^63)                  | tl=1 at=-16                   | -    | -            | primary tl=2          | 1@200                   | NEED
            the history does not say where my timeline ended                   | tl=1 at=100                   | -    | -            | primary tl=3          | 2@200                   | NEED
            my history ended timeline 1 elsewhere than the cluster's           | tl=2 at=900 history=1@150     | -    | -            | primary tl=2          | 1@200                   | NEED
            my history agrees with the cluster's                               | tl=2 at=900 history=1@200     | -    | -            | primary tl=2          | 1@200                   | NOT_NEED
            my history has a switch the cluster's lacks                        | tl=3 at=900 history=1@200 2@300 | -  | -            | primary tl=3          | 1@200                   | NOT_NEED
            was primary on tl 2, the cluster says another member created it   | tl=2 at=900 primary           | me   | -            | primary tl=2          | 1@200:other             | NEED
            was primary on tl 2, the cluster says I created it                 | tl=2 at=900 primary           | me   | -            | primary tl=2          | 1@200:me                | NOT_NEED
            was primary on tl 2, the creator is not recorded                   | tl=2 at=900 primary           | me   | -            | primary tl=2          | 1@200                   | NOT_NEED
            was primary on tl 2, my name not given: the creator is not checked | tl=2 at=900 primary           | -    | -            | primary tl=2          | 1@200:other             | NOT_NEED
            a replica on tl 2 that another member created                      | tl=2 at=900                   | me   | -            | primary tl=2          | 1@200:other             | NOT_NEED
            was primary on tl 1: no timeline before it to compare              | tl=1 at=100 primary           | me   | -            | primary tl=1          | -                       | NOT_NEED
            streamed tl 2 from 'leader', the cluster says 'other' created it   | tl=2 at=900                   | me   | 2@leader     | primary tl=2          | 1@200:other             | NEED
            streamed tl 2 from 'leader', the cluster agrees                    | tl=2 at=900                   | me   | 2@leader     | primary tl=2          | 1@200:leader            | NOT_NEED
            knew the creator of tl 2, now on tl 3                              | tl=3 at=900                   | me   | 2@leader     | primary tl=3          | 1@200:other 2@300:x     | NOT_NEED
            knew the creator of tl 2, the cluster does not name one            | tl=2 at=900                   | me   | 2@leader     | primary tl=2          | 1@200                   | NOT_NEED
            the creator of the timeline is unknown to me                       | tl=2 at=900                   | me   | 2@?          | primary tl=2          | 1@200:other             | NOT_NEED
            """)
    void decides(String situation, String mine, String me, String known, String leader, String clusterHistory,
                 Verdict expected) {
        Mine m = Mine.parse(mine);
        Member leaderKey = leader(leader);
        TimelineHistory history = new TimelineHistory(entries(clusterHistory));
        String name = me.equals("-") ? null : me;
        Verdict verdict;
        if (name == null && known.equals("-")) {
            verdict = Divergence.check(m.timeline, m.position, m.wasPrimary, m.history, leaderKey, history);
        } else {
            long knownTimeline = 0;
            String knownCreator = null;
            if (!known.equals("-")) {
                String[] k = known.split("@");
                knownTimeline = Long.parseLong(k[0]);
                knownCreator = k[1].equals("?") ? null : k[1];
            }
            verdict = Divergence.check(m.timeline, m.position, m.wasPrimary, m.history, name, knownTimeline,
                    knownCreator, leaderKey, history);
        }
        assertThat(verdict).as(situation).isEqualTo(expected);
    }

    private record Mine(long timeline, long position, boolean wasPrimary, List<TimelineHistory.Entry> history) {
        static Mine parse(String spec) {
            long timeline = 0;
            long position = 0;
            boolean primary = false;
            List<TimelineHistory.Entry> history = new ArrayList<>();
            boolean inHistory = false;
            for (String word : spec.trim().split("\\s+")) {
                if (word.startsWith("tl=")) {
                    timeline = Long.parseLong(word.substring(3));
                    inHistory = false;
                } else if (word.startsWith("at=")) {
                    position = Long.parseLong(word.substring(3));
                    inHistory = false;
                } else if (word.equals("primary")) {
                    primary = true;
                    inHistory = false;
                } else if (word.startsWith("history=")) {
                    history.addAll(entries(word.substring(8)));
                    inHistory = true;
                } else if (inHistory) {
                    history.addAll(entries(word));
                } else {
                    throw new IllegalArgumentException("unknown word " + word + " in " + spec);
                }
            }
            return new Mine(timeline, position, primary, history);
        }
    }

    /** {@code none}, or {@code [stopped] primary|replica tl=N|tl=none}. */
    private static Member leader(String spec) {
        if (spec.equals("none")) {
            return null;
        }
        String state = "running";
        String role = null;
        Long timeline = null;
        for (String word : spec.split("\\s+")) {
            switch (word) {
                case "stopped" -> state = "stopped";
                case "primary", "replica" -> role = word;
                case "tl=none" -> timeline = null;
                default -> {
                    if (!word.startsWith("tl=")) {
                        throw new IllegalArgumentException("unknown word " + word + " in " + spec);
                    }
                    timeline = Long.parseLong(word.substring(3));
                }
            }
        }
        return new Member("leader", "postgres://leader:5432/postgres", null, state, role, "pgha-test", 1000L, null,
                null, null, timeline, MemberTags.DEFAULT, false);
    }

    /** {@code -}, or entries {@code timeline@switch[:newLeader]} separated by spaces. */
    private static List<TimelineHistory.Entry> entries(String spec) {
        List<TimelineHistory.Entry> entries = new ArrayList<>();
        if (spec.isBlank() || spec.equals("-")) {
            return entries;
        }
        for (String e : spec.trim().split("\\s+")) {
            String[] creator = e.split(":");
            String[] at = creator[0].split("@");
            entries.add(new TimelineHistory.Entry(Long.parseLong(at[0]), Long.parseLong(at[1]),
                    "no recovery target specified", null, creator.length > 1 ? creator[1] : null));
        }
        return entries;
    }
}
