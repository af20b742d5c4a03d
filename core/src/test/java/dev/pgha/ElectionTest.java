package dev.pgha;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Leader;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Election}'s rules as tables: Patroni's {@code is_healthiest_node},
 * {@code _is_healthiest_node}, {@code manual_failover_process_no_leader},
 * {@code is_failover_possible} and the candidate checks, with the situations of Patroni's
 * {@code test_ha.py} (test__is_healthiest_node, test_is_healthiest_node,
 * test_manual_failover_process_no_leader, test_manual_switchover_process_no_leader,
 * test_is_failover_possible) and pgha's differences (a member on an older timeline neither wins
 * nor vetoes; a member whose fencing guard cannot work counts as nofailover).
 *
 * <p>The cells are small specifications:
 * <ul>
 *   <li>a node: {@code primary} / {@code replica} (running, accepting connections),
 *       {@code starting}, {@code stopped}; {@code wal=N}; {@code tl=N} or {@code tl=none};
 *       tags {@code nofailover}, {@code prio=N}; {@code watchdog_failed}. This node
 *       ({@code postgresql0}) defaults to {@code replica wal=10 tl=2}; other members are
 *       {@code name: spec}, separated by {@code ;}.</li>
 *   <li>the cluster: as in Patroni's fixture, {@code status} optime 10 and a history that puts the
 *       cluster on timeline 2; {@code optime=N}, {@code cluster_tl=N} ({@code 0}: no history),
 *       {@code max_lag=N} (maximum_lag_on_failover, default 1 MiB) and
 *       {@code check_timeline=false} change that.</li>
 * </ul>
 */
class ElectionTest {

    private static final String ME = "postgresql0";

    // ------------------------------------------------------------------ _is_healthiest_node

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation                                                  | me                      | other members                                   | cluster and settings | former leader | healthiest
            nobody else is there                                         | replica wal=10 tl=2     | -                                               | -                    | -             | true
            another replica at the same position                         | replica wal=10 tl=2     | other: replica wal=10 tl=2                      | -                    | -             | true
            another member still runs as primary                         | replica wal=10 tl=2     | other: primary wal=10 tl=2                      | -                    | -             | false
            a primary whose PostgreSQL is stopped is not alive           | replica wal=10 tl=2     | other: stopped primary tl=2                     | -                    | -             | true
            another replica is ahead                                     | replica wal=10 tl=2     | other: replica wal=11 tl=2                      | -                    | -             | false
            another replica is behind                                    | replica wal=10 tl=2     | other: replica wal=9 tl=2                       | -                    | -             | true
            positions compare unsigned (past 2^63 is ahead)              | replica wal=10 tl=2     | other: replica wal=-16 tl=2                     | -                    | -             | false
            same position, the other has a higher failover_priority      | replica wal=10 tl=2     | other: replica wal=10 tl=2 prio=2               | -                    | -             | false
            same position, the other has a lower failover_priority       | replica wal=10 tl=2 prio=3 | other: replica wal=10 tl=2 prio=2            | -                    | -             | true
            higher failover_priority but behind                          | replica wal=10 tl=2     | other: replica wal=9 tl=2 prio=6                | -                    | -             | true
            higher failover_priority, same position, the former leader   | replica wal=10 tl=2     | other: replica wal=10 tl=2 prio=6               | -                    | other         | true
            higher failover_priority, nobody has a position yet          | replica wal=0 tl=2      | other: replica wal=0 tl=2 prio=6                | -                    | -             | true
            a nofailover member ahead neither blocks nor wins            | replica wal=10 tl=2     | other: replica wal=99 tl=2 nofailover           | -                    | -             | true
            a member with failover_priority 0 ahead neither blocks       | replica wal=10 tl=2     | other: replica wal=99 tl=2 prio=0               | -                    | -             | true
            a watchdog_failed member ahead neither blocks nor wins       | replica wal=10 tl=2     | other: replica wal=99 tl=2 watchdog_failed      | -                    | -             | true
            a running primary that may not promote does not block        | replica wal=10 tl=2     | other: primary wal=10 tl=2 nofailover           | -                    | -             | true
            a member on an older timeline ahead does not veto            | replica wal=10 tl=2     | other: replica wal=99 tl=1                      | -                    | -             | true
            ... with check_timeline off too (pgha: one timeline only)    | replica wal=10 tl=2     | other: replica wal=99 tl=1                      | check_timeline=false | -             | true
            a member on a later timeline behind in position vetoes       | replica wal=99 tl=1     | other: replica wal=10 tl=2                      | check_timeline=false | -             | false
            a member on a later timeline vetoes without a cluster timeline | replica wal=99 tl=1   | other: replica wal=10 tl=2                      | cluster_tl=0         | -             | false
            a member on the cluster timeline ahead vetoes                | replica wal=10 tl=2     | other: replica wal=99 tl=2                      | -                    | -             | false
            a member with no known timeline ahead vetoes                 | replica wal=10 tl=2     | other: replica wal=99 tl=none                   | -                    | -             | false
            without a cluster timeline a member ahead vetoes             | replica wal=10 tl=1     | other: replica wal=99 tl=1                      | cluster_tl=0         | -             | false
            my wal position lags more than maximum_lag_on_failover       | replica wal=1 tl=2      | -                                               | max_lag=5            | -             | false
            my lag is exactly maximum_lag_on_failover                    | replica wal=5 tl=2      | -                                               | max_lag=5            | -             | true
            my timeline is unknown                                       | replica wal=10 tl=0     | -                                               | cluster_tl=0         | -             | false
            my timeline is behind the cluster's                          | replica wal=10 tl=1     | -                                               | -                    | -             | false
            my timeline is behind, check_timeline off                    | replica wal=10 tl=1     | -                                               | check_timeline=false | -             | true
            my timeline is unknown, check_timeline off                   | replica wal=10 tl=0     | -                                               | check_timeline=false | -             | true
            one of two members is ahead                                  | replica wal=10 tl=2     | a: replica wal=10 tl=2; b: replica wal=12 tl=2  | -                    | -             | false
            """)
    void isHealthiestAmong(String situation, String me, String others, String settings, String formerLeader,
                           boolean expected) {
        Table t = new Table(me, others, settings);
        boolean healthiest = t.election().isHealthiestAmong(t.cluster().members(), t.cluster(), t.pg(), true,
                dash(formerLeader));
        assertThat(healthiest).as(situation).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation (lag not checked: the manual failover path)   | me                 | other members              | cluster and settings | healthiest
            lagging more than maximum_lag_on_failover does not matter | replica wal=1 tl=2 | -                          | max_lag=5            | true
            a member ahead still wins                                 | replica wal=1 tl=2 | other: replica wal=9 tl=2  | max_lag=5            | false
            """)
    void isHealthiestAmongWithoutTheLagCheck(String situation, String me, String others, String settings,
                                            boolean expected) {
        Table t = new Table(me, others, settings);
        assertThat(t.election().isHealthiestAmong(t.cluster().members(), t.cluster(), t.pg(), false, null))
                .as(situation).isEqualTo(expected);
    }

    // ------------------------------------------------------------------ is_healthiest_node

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation                                                  | me                             | other members              | failover | cluster and settings | healthiest
            the healthiest replica                                       | replica wal=10 tl=2            | other: replica wal=9 tl=2  | -        | -                    | true
            PostgreSQL still starting                                    | starting wal=10 tl=2           | -                          | -        | -                    | false
            a running primary takes the lock back, whoever is ahead      | primary wal=10 tl=2            | other: replica wal=99 tl=2 | -        | -                    | true
            a running primary tagged nofailover takes it back too        | primary wal=10 tl=2 nofailover | -                          | -        | -                    | true
            a running primary on a timeline behind the cluster's         | primary wal=10 tl=1            | -                          | -        | -                    | false
            a running primary on the cluster timeline                    | primary wal=10 tl=2            | -                          | -        | -                    | true
            a running primary with no cluster timeline known             | primary wal=10 tl=1            | -                          | -        | cluster_tl=0         | true
            a replica tagged nofailover                                  | replica wal=10 tl=2 nofailover | -                          | -        | -                    | false
            a replica with failover_priority 0                           | replica wal=10 tl=2 prio=0     | -                          | -        | -                    | false
            a replica whose lag exceeds maximum_lag_on_failover          | replica wal=1 tl=2             | -                          | -        | max_lag=5            | false
            a manual failover to me, others ahead                        | replica wal=10 tl=2            | other: replica wal=99 tl=2 | ->me     | -                    | true
            a manual failover to a healthy other                         | replica wal=10 tl=2            | other: replica wal=9 tl=2  | ->other  | -                    | false
            a manual failover to me while I am tagged nofailover         | replica wal=10 tl=2 nofailover | -                          | ->me     | -                    | false
            """)
    void isHealthiestNode(String situation, String me, String others, String failover, String settings,
                          boolean expected) {
        Table t = new Table(me, others, settings, failover(failover));
        assertThat(t.election().isHealthiestNode(t.cluster(), t.pg(), null)).as(situation).isEqualTo(expected);
    }

    // ------------------------------------------------------------------ manual_failover_process_no_leader

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation                                                       | failover       | me                   | other members                                      | take part
            failover to me                                                    | ->me           | replica wal=1 tl=2   | other: replica wal=99 tl=2                         | true
            failover to a reachable candidate                                 | ->other        | replica wal=10 tl=2  | other: replica wal=9 tl=2                          | false
            failover to a candidate on an older timeline: still defer to it   | ->other        | replica wal=10 tl=2  | other: replica wal=9 tl=1                          | false
            failover to a lagging candidate: still defer to it                | ->other        | replica wal=10 tl=2  | other: replica wal=1 tl=2                          | false
            failover to an unreachable candidate: race, I am the healthiest   | ->gone         | replica wal=10 tl=2  | other: replica wal=9 tl=2                          | true
            failover to an unreachable candidate: race, another is ahead      | ->gone         | replica wal=10 tl=2  | other: replica wal=11 tl=2                         | false
            failover to a nofailover candidate: race                          | ->other        | replica wal=10 tl=2  | other: replica wal=99 tl=2 nofailover              | true
            failover to a watchdog_failed candidate: race                     | ->other        | replica wal=10 tl=2  | other: replica wal=99 tl=2 watchdog_failed         | true
            switchover from me, another replica can take over                 | me->           | replica wal=10 tl=2  | other: replica wal=10 tl=2                         | false
            switchover from me, nobody else can take over                     | me->           | replica wal=10 tl=2  | other: replica wal=10 tl=2 nofailover              | true
            switchover from me, the others are stopped                        | me->           | replica wal=10 tl=2  | other: stopped replica tl=2                        | true
            switchover from the old leader: its key does not veto             | leader->       | replica wal=10 tl=2  | leader: primary wal=99 tl=2                        | true
            switchover from the old leader: another replica is ahead          | leader->       | replica wal=10 tl=2  | leader: primary wal=99 tl=2; other: replica wal=11 tl=2 | false
            switchover from the old leader, lagging does not matter           | leader->       | replica wal=1 tl=2   | leader: primary wal=99 tl=2                        | true
            switchover to an unreachable candidate from the old leader        | leader->gone   | replica wal=10 tl=2  | leader: primary wal=99 tl=2; other: replica wal=9 tl=2 | true
            """)
    void manualFailoverProcessNoLeader(String situation, String failover, String me, String others,
                                       boolean expected) {
        Table t = new Table(me, others, "max_lag=5", failover(failover));
        assertThat(t.election().manualFailoverProcessNoLeader(t.cluster(), t.pg())).as(situation).isEqualTo(expected);
    }

    // ------------------------------------------------------------------ is_failover_possible

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation (asked by the leader, postgresql0)              | candidate | cluster lsn | members                                                   | cluster and settings | possible
            a healthy replica                                           | -         | 0           | b: replica wal=10 tl=2                                    | -                    | true
            nobody but me                                               | -         | 0           | postgresql0: primary wal=10 tl=2                          | -                    | false
            only my own key says replica: I am no candidate             | -         | 0           | postgresql0: replica wal=10 tl=2; b: replica wal=10 tl=2 nofailover | -      | false
            the named candidate is healthy                              | b         | 0           | b: replica wal=10 tl=2; c: replica wal=10 tl=2            | -                    | true
            the named candidate has no member key                       | x         | 0           | b: replica wal=10 tl=2                                    | -                    | false
            the named candidate may not promote, another could          | b         | 0           | b: replica wal=10 tl=2 nofailover; c: replica wal=10 tl=2 | -                    | false
            the only replica is tagged nofailover                       | -         | 0           | b: replica wal=10 tl=2 nofailover                         | -                    | false
            the only replica is watchdog_failed                         | -         | 0           | b: replica wal=10 tl=2 watchdog_failed                    | -                    | false
            the only replica is stopped                                 | -         | 0           | b: stopped replica tl=2                                   | -                    | false
            the other member runs as primary                            | -         | 0           | b: primary wal=10 tl=2                                    | -                    | false
            the only replica lags more than maximum_lag_on_failover     | -         | 0           | b: replica wal=4 tl=2                                     | max_lag=5            | false
            the only replica lags exactly maximum_lag_on_failover       | -         | 0           | b: replica wal=5 tl=2                                     | max_lag=5            | true
            lag counts from the cluster lsn given, not the optime       | -         | 100         | b: replica wal=10 tl=2                                    | max_lag=5            | false
            within the lag of the cluster lsn given                     | -         | 100         | b: replica wal=96 tl=2                                    | max_lag=5 optime=200 | true
            the only replica is on an older timeline                    | -         | 0           | b: replica wal=10 tl=1                                    | -                    | false
            ... with check_timeline off                                 | -         | 0           | b: replica wal=10 tl=1                                    | check_timeline=false | true
            the only replica's timeline is unknown                      | -         | 0           | b: replica wal=10 tl=none                                 | -                    | false
            the only replica is on the cluster timeline                 | -         | 0           | b: replica wal=10 tl=2                                    | -                    | true
            one bad candidate, one good                                 | -         | 0           | b: replica wal=10 tl=1; c: replica wal=10 tl=2            | -                    | true
            """)
    void isFailoverPossible(String situation, String candidate, long clusterLsn, String members, String settings,
                            boolean expected) {
        Table t = new Table("primary wal=10 tl=2", members, settings);
        assertThat(t.election().isFailoverPossible(t.cluster(), clusterLsn, dash(candidate), "switchover"))
                .as(situation).isEqualTo(expected);
    }

    // ------------------------------------------------------------------ the candidate checks' words

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # candidate 'b'                       | settings             | problem
            replica wal=10 tl=2                   | -                    | -
            replica wal=10 tl=2 nofailover        | -                    | Member b is not allowed to promote
            replica wal=10 tl=2 watchdog_failed   | -                    | Member b is not watchdog capable
            stopped replica tl=2                  | -                    | Member b is not running as a replica
            primary wal=10 tl=2                   | -                    | Member b is not running as a replica
            replica wal=4 tl=2                    | max_lag=5            | Member b exceeds maximum replication lag
            replica wal=10 tl=1                   | -                    | Timeline 1 of member b is behind the cluster timeline 2
            replica wal=10 tl=none                | -                    | Timeline null of member b is behind the cluster timeline 2
            replica wal=10 tl=1                   | check_timeline=false | -
            """)
    void candidateProblem(String candidate, String settings, String problem) {
        Table t = new Table("primary wal=10 tl=2", "b: " + candidate, settings);
        Member b = t.cluster().member("b").orElseThrow();
        assertThat(t.election().candidateProblem(t.cluster(), b, 0)).isEqualTo(Optional.ofNullable(dash(problem)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # member 'b'                          | failover_limitation
            absent                                | not reachable
            replica wal=10 tl=2 nofailover        | not allowed to promote
            replica wal=10 tl=2 prio=0            | not allowed to promote
            replica wal=10 tl=2 watchdog_failed   | not watchdog capable
            replica wal=1 tl=1                    | -
            stopped replica tl=2                  | -
            """)
    void limitation(String member, String limitation) {
        Table t = new Table("primary wal=10 tl=2", member.equals("absent") ? "-" : "b: " + member, "-");
        assertThat(t.election().limitation(t.cluster(), "b")).isEqualTo(Optional.ofNullable(dash(limitation)));
    }

    // ------------------------------------------------------------------ reading the cells

    private static String dash(String cell) {
        return cell == null || cell.equals("-") ? null : cell;
    }

    /** {@code -}, {@code ->candidate}, {@code leader->} or {@code leader->candidate}. */
    private static Failover failover(String cell) {
        if (dash(cell) == null) {
            return null;
        }
        String[] parts = cell.split("->", -1);
        return new Failover(parts[0].equals("me") ? ME : parts[0], parts[1].equals("me") ? ME : parts[1], null, 1);
    }

    /** One row's node, cluster and settings. */
    private static final class Table {
        private final Spec me;
        private final ClusterView cluster;
        private final ClusterSettings settings;

        Table(String me, String others, String settings) {
            this(me, others, settings, null);
        }

        Table(String me, String others, String settings, Failover failover) {
            this.me = Spec.parse(ME, me);
            long optime = 10;
            long clusterTimeline = 2;
            ClusterSettings.Builder b = ClusterSettings.builder();
            for (String word : words(settings)) {
                String[] kv = word.split("=");
                switch (kv[0]) {
                    case "optime" -> optime = Long.parseLong(kv[1]);
                    case "cluster_tl" -> clusterTimeline = Long.parseLong(kv[1]);
                    case "max_lag" -> b.maximumLagOnFailover(Long.parseLong(kv[1]));
                    case "check_timeline" -> b.checkTimeline(Boolean.parseBoolean(kv[1]));
                    default -> throw new IllegalArgumentException("unknown setting " + word);
                }
            }
            this.settings = b.build();
            List<Member> members = new ArrayList<>();
            if (dash(others) != null) {
                for (String spec : others.split(";")) {
                    String[] nameAndSpec = spec.split(":", 2);
                    members.add(Spec.parse(nameAndSpec[0].trim(), nameAndSpec[1]).member());
                }
            }
            TimelineHistory history = clusterTimeline == 0 ? TimelineHistory.EMPTY
                    : new TimelineHistory(List.of(new TimelineHistory.Entry(clusterTimeline - 1, 5,
                            "no recovery target specified", null, "foo")));
            this.cluster = new ClusterView("12345678901", null, (Leader) null, new ClusterStatus(optime, java.util.Map.of()),
                    members, failover, null, history, null);
        }

        Election election() {
            return new Election(ME, me.tags, settings);
        }

        ClusterView cluster() {
            return cluster;
        }

        PostgresStatus pg() {
            return me.status();
        }
    }

    private static List<String> words(String cell) {
        return dash(cell) == null ? List.of() : List.of(cell.trim().split("\\s+"));
    }

    /** A node as a cell describes it. */
    private record Spec(String name, String role, String state, Long wal, Long timeline, MemberTags tags,
                        boolean watchdogFailed) {

        static Spec parse(String name, String spec) {
            String role = "replica";
            String state = "running";
            Long wal = null;
            Long timeline = 1L;
            MemberTags tags = MemberTags.DEFAULT;
            boolean watchdogFailed = false;
            for (String word : words(spec)) {
                if (word.equals("primary") || word.equals("replica")) {
                    role = word;
                } else if (word.equals("starting") || word.equals("stopped")) {
                    state = word;
                } else if (word.equals("nofailover")) {
                    tags = tags.withNoFailover(true);
                } else if (word.equals("watchdog_failed")) {
                    watchdogFailed = true;
                } else if (word.startsWith("prio=")) {
                    tags = tags.withFailoverPriority(Integer.parseInt(word.substring(5)));
                } else if (word.startsWith("wal=")) {
                    wal = Long.parseLong(word.substring(4));
                } else if (word.equals("tl=none")) {
                    timeline = null;
                } else if (word.startsWith("tl=")) {
                    timeline = Long.parseLong(word.substring(3));
                } else {
                    throw new IllegalArgumentException("unknown word " + word + " in " + spec);
                }
            }
            return new Spec(name, role, state, wal, timeline, tags, watchdogFailed);
        }

        /** Its member key, as the node publishes it. */
        Member member() {
            boolean replica = role.equals("replica");
            Long position = state.equals("running") ? wal : null;
            return new Member(name, "postgres://" + name + ":5432/postgres", "http://" + name + ":8008/patroni",
                    state, role, "pgha-test", position, replica ? position : null, replica ? position : null,
                    replica && position != null ? "streaming" : null, timeline, tags, false, watchdogFailed);
        }

        /** What this node's PostgreSQL reports. */
        PostgresStatus status() {
            boolean running = state.equals("running");
            PostgresState s = state.equals("starting") ? PostgresState.STARTING
                    : running ? PostgresState.RUNNING : PostgresState.STOPPED;
            boolean replica = role.equals("replica");
            Lsn position = new Lsn(wal == null ? 0 : wal);
            return new PostgresStatus(s, !state.equals("stopped"), running, replica,
                    timeline == null ? 0 : timeline, position, replica ? position : null, replica ? position : null,
                    replica && running, "12345678901", DataDirectoryState.INITIALIZED, null);
        }
    }
}
