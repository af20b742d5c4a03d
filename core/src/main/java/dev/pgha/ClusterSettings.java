package dev.pgha;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The settings that are the same for every member of a cluster, because they live in the DCS:
 * Patroni's dynamic configuration, read from the {@code config} key on every cycle. A host's
 * {@link HaConfig} carries one of these as {@link HaConfig#bootstrapDcs()} (Patroni's
 * {@code bootstrap.dcs}): the member that bootstraps the cluster writes it to the key, the leader
 * writes it again if the key disappears, and a member uses it until it has read a valid key.
 * Operators change the key with {@code patronictl edit-config}; a change acts from the next cycle.
 *
 * <p>Validation happens when the record is created, and the message names the setting by its
 * Patroni name: positive durations, {@code loop_wait + 2*retry_timeout <= ttl} (so that a primary
 * cut off from the DCS demotes before its lease can expire; never silently adjusted), no negative
 * lag, parameter names that PostgreSQL could accept.
 *
 * @param ttl                  {@code ttl}: lease of the leader key (default 30 s)
 * @param loopWait             {@code loop_wait}: interval between cycles (default 10 s)
 * @param retryTimeout         {@code retry_timeout}: longest a DCS call may take (default 10 s)
 * @param primaryStartTimeout  {@code primary_start_timeout}: how long the lock holder may try to
 *                             restart a crashed primary before failing over; 0 = fail over at once
 *                             (default 300 s)
 * @param primaryStopTimeout   {@code primary_stop_timeout}: 0 = wait for a stop as long as it takes (default 0)
 * @param maximumLagOnFailover {@code maximum_lag_on_failover}: bytes a replica may lag behind the last
 *                             known primary position and still be promoted (default 1 MiB)
 * @param checkTimeline        {@code check_timeline}: refuse candidates on an older timeline
 *                             (default true; Patroni's default is false)
 * @param usePgRewind          {@code postgresql.use_pg_rewind}: rewind a diverged former primary (default false)
 * @param useSlots             {@code postgresql.use_slots}: the primary keeps a physical replication slot
 *                             for every other member and replicas stream through theirs (default true)
 * @param memberSlotsTtl       {@code member_slots_ttl}: how long the primary keeps the slot of a member
 *                             that left the cluster; 0 = drop at once (default 30 min)
 * @param ignoreSlots          {@code ignore_slots}: slots pgha never drops (default none)
 * @param postgresqlParameters {@code postgresql.parameters}: PostgreSQL settings for every member, as text
 *                             (default none)
 * @param pause                {@code pause}: maintenance mode, Patroni's {@code patronictl pause}: no
 *                             automatic failover, promotion, start, stop or bootstrap (default false)
 * @param synchronousMode      {@code synchronous_mode}: off, on ({@code FIRST n}) or quorum ({@code ANY n})
 *                             (default off)
 * @param synchronousModeStrict {@code synchronous_mode_strict}: with no synchronous standby left,
 *                             commits wait rather than the primary turning asynchronous (default false)
 * @param synchronousNodeCount {@code synchronous_node_count}: how many synchronous standbys the primary
 *                             keeps, at least 1 (default 1)
 * @param maximumLagOnSyncnode {@code maximum_lag_on_syncnode}: bytes a synchronous standby may lag behind
 *                             the most advanced replica before another takes its place; 0 or less never
 *                             swaps (default -1)
 */
public record ClusterSettings(Duration ttl, Duration loopWait, Duration retryTimeout, Duration primaryStartTimeout,
                              Duration primaryStopTimeout, long maximumLagOnFailover, boolean checkTimeline,
                              boolean usePgRewind, boolean useSlots, Duration memberSlotsTtl,
                              List<IgnoreSlot> ignoreSlots, Map<String, String> postgresqlParameters,
                              boolean pause, SynchronousMode synchronousMode, boolean synchronousModeStrict,
                              int synchronousNodeCount, long maximumLagOnSyncnode) {

    /** pgha's defaults, which also stand for settings the {@code config} key leaves out. */
    public static final ClusterSettings DEFAULTS = builder().build();

    /**
     * One entry of Patroni's {@code ignore_slots}: a slot matches when every field that is set
     * equals the slot's (a physical slot has no database and no plugin).
     *
     * @param name     the slot name, or null for any
     * @param type     {@code physical} or {@code logical}, or null for any
     * @param database the database of a logical slot, or null for any
     * @param plugin   the output plugin of a logical slot, or null for any
     */
    public record IgnoreSlot(String name, String type, String database, String plugin) {

        /** Blank fields count as unset. */
        public IgnoreSlot {
            name = blankToNull(name);
            type = blankToNull(type);
            database = blankToNull(database);
            plugin = blankToNull(plugin);
        }

        /** Matches the slot called {@code name}, whatever its type. */
        public static IgnoreSlot named(String name) {
            return new IgnoreSlot(name, null, null, null);
        }

        /** Whether this entry matches the physical slot {@code slot}. */
        public boolean matchesPhysical(String slot) {
            return (name == null || name.equals(slot)) && (type == null || type.equals("physical"))
                    && database == null && plugin == null;
        }

        private static String blankToNull(String s) {
            return s == null || s.isBlank() ? null : s;
        }
    }

    /** Patroni's {@code synchronous_mode}. */
    public enum SynchronousMode {
        /** Asynchronous replication: a failover may lose up to {@code maximum_lag_on_failover} bytes. */
        OFF("off"),
        /** {@code synchronous_standby_names = 'FIRST n (...)'}: only a listed synchronous standby may be promoted. */
        ON("on"),
        /** {@code synchronous_standby_names = 'ANY n (...)'}: a new primary needs the quorum's votes. */
        QUORUM("quorum");

        private final String patroniName;

        SynchronousMode(String patroniName) {
            this.patroniName = patroniName;
        }

        /** The value as Patroni writes it in the {@code config} key ({@code on} is written as {@code true}). */
        public String patroniName() {
            return patroniName;
        }

        /** Whether synchronous replication is on, in either form. */
        public boolean isSynchronous() {
            return this != OFF;
        }
    }

    /** Validates every field; see the class description for the rules. */
    public ClusterSettings {
        requirePositive("ttl", ttl);
        requirePositive("loop_wait", loopWait);
        requirePositive("retry_timeout", retryTimeout);
        requireNonNegative("primary_start_timeout", primaryStartTimeout);
        requireNonNegative("primary_stop_timeout", primaryStopTimeout);
        requireNonNegative("member_slots_ttl", memberSlotsTtl);
        if (maximumLagOnFailover < 0) {
            throw new HaConfigException("maximum_lag_on_failover", "must not be negative, was " + maximumLagOnFailover);
        }
        Duration needed = loopWait.plus(retryTimeout.multipliedBy(2));
        if (needed.compareTo(ttl) > 0) {
            throw new HaConfigException("loop_wait",
                    "breaks the rule loop_wait + 2*retry_timeout <= ttl: " + shortText(loopWait) + " + 2*"
                            + shortText(retryTimeout) + " = " + shortText(needed) + " > ttl " + shortText(ttl)
                            + " (a primary cut off from the DCS could not demote before its lease expires)");
        }
        ignoreSlots = List.copyOf(Objects.requireNonNullElse(ignoreSlots, List.of()));
        synchronousMode = Objects.requireNonNullElse(synchronousMode, SynchronousMode.OFF);
        if (synchronousNodeCount < 1) {
            throw new HaConfigException("synchronous_node_count", "must be at least 1, was " + synchronousNodeCount);
        }
        Map<String, String> params = new TreeMap<>();
        Objects.requireNonNullElse(postgresqlParameters, Map.<String, String>of()).forEach((k, v) -> {
            if (k == null || !k.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
                throw new HaConfigException("postgresql.parameters", "has an invalid name '" + k + "'");
            }
            if (v == null) {
                throw new HaConfigException("postgresql.parameters." + k, "has no value");
            }
            params.put(k, v);
        });
        postgresqlParameters = Map.copyOf(params);
    }

    /** A builder with pgha's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these values. */
    public Builder toBuilder() {
        return new Builder().ttl(ttl).loopWait(loopWait).retryTimeout(retryTimeout)
                .primaryStartTimeout(primaryStartTimeout).primaryStopTimeout(primaryStopTimeout)
                .maximumLagOnFailover(maximumLagOnFailover).checkTimeline(checkTimeline).usePgRewind(usePgRewind)
                .useSlots(useSlots).memberSlotsTtl(memberSlotsTtl).ignoreSlots(ignoreSlots)
                .postgresqlParameters(postgresqlParameters).pause(pause).synchronousMode(synchronousMode)
                .synchronousModeStrict(synchronousModeStrict).synchronousNodeCount(synchronousNodeCount)
                .maximumLagOnSyncnode(maximumLagOnSyncnode);
    }

    /** Whether {@code ignore_slots} protects the physical slot {@code slot}. */
    public boolean ignoresPhysicalSlot(String slot) {
        return ignoreSlots.stream().anyMatch(m -> m.matchesPhysical(slot));
    }

    /**
     * Reads the value of the {@code config} key as Patroni and {@code patronictl edit-config}
     * write it. Settings the value leaves out take {@link #DEFAULTS}; keys pgha does not know are
     * ignored, as Patroni does. Durations are whole or fractional seconds, as numbers or text, or
     * text with a unit ({@code ms}, {@code s}, {@code min}, {@code h}, {@code d}); booleans are
     * booleans or Patroni's words ({@code on}/{@code off}, {@code true}/{@code false},
     * {@code yes}/{@code no}, {@code 1}/{@code 0}).
     *
     * @throws HaConfigException naming the first setting that is malformed or breaks a rule
     */
    public static ClusterSettings fromConfig(Map<String, ?> data) {
        return ConfigValues.decode(data == null ? Map.of() : data);
    }

    /**
     * The value to write to the {@code config} key, in Patroni's shape: durations in seconds,
     * {@code use_pg_rewind}, {@code use_slots} and {@code parameters} under {@code postgresql}.
     * {@link #fromConfig} reads it back to an equal record.
     */
    public Map<String, Object> toConfig() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ttl", ConfigValues.seconds(ttl));
        out.put("loop_wait", ConfigValues.seconds(loopWait));
        out.put("retry_timeout", ConfigValues.seconds(retryTimeout));
        out.put("maximum_lag_on_failover", maximumLagOnFailover);
        out.put("primary_start_timeout", ConfigValues.seconds(primaryStartTimeout));
        out.put("primary_stop_timeout", ConfigValues.seconds(primaryStopTimeout));
        out.put("check_timeline", checkTimeline);
        out.put("member_slots_ttl", ConfigValues.seconds(memberSlotsTtl));
        if (!ignoreSlots.isEmpty()) {
            List<Map<String, String>> slots = new ArrayList<>();
            for (IgnoreSlot s : ignoreSlots) {
                Map<String, String> m = new LinkedHashMap<>();
                putIfSet(m, "name", s.name());
                putIfSet(m, "type", s.type());
                putIfSet(m, "database", s.database());
                putIfSet(m, "plugin", s.plugin());
                slots.add(m);
            }
            out.put("ignore_slots", slots);
        }
        Map<String, Object> pg = new LinkedHashMap<>();
        pg.put("use_pg_rewind", usePgRewind);
        pg.put("use_slots", useSlots);
        if (!postgresqlParameters.isEmpty()) {
            pg.put("parameters", new TreeMap<>(postgresqlParameters));
        }
        out.put("postgresql", pg);
        if (pause) {
            out.put("pause", true);
        }
        if (synchronousMode != SynchronousMode.OFF) {
            out.put("synchronous_mode", synchronousMode == SynchronousMode.QUORUM ? "quorum" : true);
        }
        if (synchronousModeStrict) {
            out.put("synchronous_mode_strict", true);
        }
        if (synchronousNodeCount != 1) {
            out.put("synchronous_node_count", synchronousNodeCount);
        }
        if (maximumLagOnSyncnode != -1) {
            out.put("maximum_lag_on_syncnode", maximumLagOnSyncnode);
        }
        return out;
    }

    private static void putIfSet(Map<String, String> m, String key, String value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    private static void requirePositive(String field, Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw new HaConfigException(field, "must be a positive duration, was " + value);
        }
    }

    private static void requireNonNegative(String field, Duration value) {
        if (value == null || value.isNegative()) {
            throw new HaConfigException(field, "must be zero or a positive duration, was " + value);
        }
    }

    private static String shortText(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    /** Builds {@link ClusterSettings}; every setter takes Patroni's setting of the same name. */
    public static final class Builder {
        private Duration ttl = Duration.ofSeconds(30);
        private Duration loopWait = Duration.ofSeconds(10);
        private Duration retryTimeout = Duration.ofSeconds(10);
        private Duration primaryStartTimeout = Duration.ofSeconds(300);
        private Duration primaryStopTimeout = Duration.ZERO;
        private long maximumLagOnFailover = 1024 * 1024;
        private boolean checkTimeline = true;
        private boolean usePgRewind;
        private boolean useSlots = true;
        private Duration memberSlotsTtl = Duration.ofMinutes(30);
        private List<IgnoreSlot> ignoreSlots = List.of();
        private Map<String, String> postgresqlParameters = Map.of();
        private boolean pause;
        private SynchronousMode synchronousMode = SynchronousMode.OFF;
        private boolean synchronousModeStrict;
        private int synchronousNodeCount = 1;
        private long maximumLagOnSyncnode = -1;

        private Builder() {
        }

        /** {@code ttl}. */
        public Builder ttl(Duration value) {
            this.ttl = value;
            return this;
        }

        /** {@code loop_wait}. */
        public Builder loopWait(Duration value) {
            this.loopWait = value;
            return this;
        }

        /** {@code retry_timeout}. */
        public Builder retryTimeout(Duration value) {
            this.retryTimeout = value;
            return this;
        }

        /** {@code primary_start_timeout}. */
        public Builder primaryStartTimeout(Duration value) {
            this.primaryStartTimeout = value;
            return this;
        }

        /** {@code primary_stop_timeout}. */
        public Builder primaryStopTimeout(Duration value) {
            this.primaryStopTimeout = value;
            return this;
        }

        /** {@code maximum_lag_on_failover}, in bytes. */
        public Builder maximumLagOnFailover(long bytes) {
            this.maximumLagOnFailover = bytes;
            return this;
        }

        /** {@code check_timeline}. */
        public Builder checkTimeline(boolean value) {
            this.checkTimeline = value;
            return this;
        }

        /** {@code postgresql.use_pg_rewind}. */
        public Builder usePgRewind(boolean value) {
            this.usePgRewind = value;
            return this;
        }

        /** {@code postgresql.use_slots}. */
        public Builder useSlots(boolean value) {
            this.useSlots = value;
            return this;
        }

        /** {@code member_slots_ttl}. */
        public Builder memberSlotsTtl(Duration value) {
            this.memberSlotsTtl = value;
            return this;
        }

        /** {@code ignore_slots}. */
        public Builder ignoreSlots(List<IgnoreSlot> value) {
            this.ignoreSlots = value;
            return this;
        }

        /** {@code ignore_slots} entries that each name one slot. */
        public Builder ignoreSlotNames(Set<String> names) {
            this.ignoreSlots = Objects.requireNonNullElse(names, Set.<String>of()).stream().sorted()
                    .map(IgnoreSlot::named).toList();
            return this;
        }

        /** {@code postgresql.parameters}, as PostgreSQL's text values. */
        public Builder postgresqlParameters(Map<String, String> value) {
            this.postgresqlParameters = value;
            return this;
        }

        /** {@code pause}: maintenance mode. */
        public Builder pause(boolean value) {
            this.pause = value;
            return this;
        }

        /** {@code synchronous_mode}. */
        public Builder synchronousMode(SynchronousMode value) {
            this.synchronousMode = value;
            return this;
        }

        /** {@code synchronous_mode_strict}. */
        public Builder synchronousModeStrict(boolean value) {
            this.synchronousModeStrict = value;
            return this;
        }

        /** {@code synchronous_node_count}. */
        public Builder synchronousNodeCount(int value) {
            this.synchronousNodeCount = value;
            return this;
        }

        /** {@code maximum_lag_on_syncnode}, in bytes; 0 or less never swaps a lagging synchronous standby. */
        public Builder maximumLagOnSyncnode(long bytes) {
            this.maximumLagOnSyncnode = bytes;
            return this;
        }

        /**
         * Builds the settings.
         *
         * @throws HaConfigException naming the setting that breaks a rule
         */
        public ClusterSettings build() {
            return new ClusterSettings(ttl, loopWait, retryTimeout, primaryStartTimeout, primaryStopTimeout,
                    maximumLagOnFailover, checkTimeline, usePgRewind, useSlots, memberSlotsTtl, ignoreSlots,
                    postgresqlParameters, pause, synchronousMode, synchronousModeStrict, synchronousNodeCount,
                    maximumLagOnSyncnode);
        }
    }
}
