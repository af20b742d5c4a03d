package dev.pgha;

import dev.pgha.cluster.MemberTags;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * The HA settings of one member. Immutable; build with {@link #builder()}.
 *
 * <p>Settings split as in Patroni. Those of this member stay here: its scope and name, tags, the
 * {@code api_url} it publishes and what it may do to its own data directory. Those that must be
 * the same on every member live in the DCS's {@code config} key and are read from it on every
 * cycle ({@link ClusterSettings}); the ones given here are {@link #bootstrapDcs()}, Patroni's
 * {@code bootstrap.dcs}: written to the key by the member that bootstraps the cluster, written
 * again by the leader if the key disappears, and used until a valid key has been read. The
 * builder's setters for them ({@link Builder#ttl}, {@link Builder#loopWait}, ...) fill that part.
 *
 * <p>Validation happens when the record is created, and the message names the field by its
 * Patroni name: non-blank scope and name that are usable as a DCS key segment, and the rules of
 * {@link ClusterSettings} (positive durations, {@code loop_wait + 2*retry_timeout <= ttl}, never
 * silently adjusted).
 *
 * @param scope                  Patroni's {@code scope}: the cluster name
 * @param name                   Patroni's {@code name}: this member's unique name
 * @param tags                   this member's tags
 * @param apiUrl                 {@code api_url} to publish, or null when the host has no REST endpoint
 * @param removeDataDirectoryOnRewindFailure {@code postgresql.remove_data_directory_on_rewind_failure} (default false)
 * @param removeDataDirectoryOnDivergedTimelines {@code postgresql.remove_data_directory_on_diverged_timelines} (default false)
 * @param bootstrapDcs           the cluster-wide settings to bootstrap the {@code config} key with (defaults:
 *                               {@link ClusterSettings#DEFAULTS})
 */
public record HaConfig(String scope, String name, MemberTags tags, String apiUrl,
                       boolean removeDataDirectoryOnRewindFailure, boolean removeDataDirectoryOnDivergedTimelines,
                       ClusterSettings bootstrapDcs) {

    /** Validates every field; see the class description for the rules. */
    public HaConfig {
        requireKeySegment("scope", scope);
        requireKeySegment("name", name);
        tags = Objects.requireNonNullElse(tags, MemberTags.DEFAULT);
        if (apiUrl != null && apiUrl.isBlank()) {
            apiUrl = null;
        }
        bootstrapDcs = Objects.requireNonNullElse(bootstrapDcs, ClusterSettings.DEFAULTS);
    }

    /** A builder with Patroni's defaults; scope and name must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these values. */
    public Builder toBuilder() {
        return new Builder().scope(scope).name(name).tags(tags).apiUrl(apiUrl)
                .removeDataDirectoryOnRewindFailure(removeDataDirectoryOnRewindFailure)
                .removeDataDirectoryOnDivergedTimelines(removeDataDirectoryOnDivergedTimelines)
                .bootstrapDcs(bootstrapDcs);
    }

    private static void requireKeySegment(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new HaConfigException(field, "must not be blank");
        }
        if (value.contains("/") || !value.equals(value.strip())) {
            throw new HaConfigException(field, "must not contain '/' or leading/trailing spaces, was '" + value + "'");
        }
    }

    /**
     * Builds {@link HaConfig}. The cluster-wide setters fill {@link HaConfig#bootstrapDcs()}; a later
     * {@link #bootstrapDcs(ClusterSettings)} replaces what they set, and they refine what it set.
     */
    public static final class Builder {
        private String scope;
        private String name;
        private MemberTags tags = MemberTags.DEFAULT;
        private String apiUrl;
        private boolean removeDataDirectoryOnRewindFailure;
        private boolean removeDataDirectoryOnDivergedTimelines;
        private ClusterSettings.Builder dcs = ClusterSettings.builder();

        private Builder() {
        }

        /** {@code scope} (required). */
        public Builder scope(String value) {
            this.scope = value;
            return this;
        }

        /** {@code name} (required). */
        public Builder name(String value) {
            this.name = value;
            return this;
        }

        /** This member's tags. */
        public Builder tags(MemberTags value) {
            this.tags = value;
            return this;
        }

        /** {@code api_url}. */
        public Builder apiUrl(String value) {
            this.apiUrl = value;
            return this;
        }

        /** {@code postgresql.remove_data_directory_on_rewind_failure}. */
        public Builder removeDataDirectoryOnRewindFailure(boolean value) {
            this.removeDataDirectoryOnRewindFailure = value;
            return this;
        }

        /** {@code postgresql.remove_data_directory_on_diverged_timelines}. */
        public Builder removeDataDirectoryOnDivergedTimelines(boolean value) {
            this.removeDataDirectoryOnDivergedTimelines = value;
            return this;
        }

        /** All of {@code bootstrap.dcs} at once. */
        public Builder bootstrapDcs(ClusterSettings value) {
            this.dcs = Objects.requireNonNullElse(value, ClusterSettings.DEFAULTS).toBuilder();
            return this;
        }

        /** {@code bootstrap.dcs.synchronous_mode}: off (default), on or quorum. */
        public Builder synchronousMode(ClusterSettings.SynchronousMode value) {
            dcs.synchronousMode(value);
            return this;
        }

        /** {@code bootstrap.dcs.synchronous_mode_strict} (default false). */
        public Builder synchronousModeStrict(boolean value) {
            dcs.synchronousModeStrict(value);
            return this;
        }

        /** {@code bootstrap.dcs.synchronous_node_count} (default 1). */
        public Builder synchronousNodeCount(int value) {
            dcs.synchronousNodeCount(value);
            return this;
        }

        /** {@code bootstrap.dcs.maximum_lag_on_syncnode} in bytes (default -1: never swap a lagging standby). */
        public Builder maximumLagOnSyncnode(long bytes) {
            dcs.maximumLagOnSyncnode(bytes);
            return this;
        }

        /** {@code bootstrap.dcs.ttl}. */
        public Builder ttl(Duration value) {
            dcs.ttl(value);
            return this;
        }

        /** {@code bootstrap.dcs.loop_wait}. */
        public Builder loopWait(Duration value) {
            dcs.loopWait(value);
            return this;
        }

        /** {@code bootstrap.dcs.retry_timeout}. */
        public Builder retryTimeout(Duration value) {
            dcs.retryTimeout(value);
            return this;
        }

        /** {@code bootstrap.dcs.primary_start_timeout}. */
        public Builder primaryStartTimeout(Duration value) {
            dcs.primaryStartTimeout(value);
            return this;
        }

        /** {@code bootstrap.dcs.primary_stop_timeout}. */
        public Builder primaryStopTimeout(Duration value) {
            dcs.primaryStopTimeout(value);
            return this;
        }

        /** {@code bootstrap.dcs.maximum_lag_on_failover}, in bytes. */
        public Builder maximumLagOnFailover(long bytes) {
            dcs.maximumLagOnFailover(bytes);
            return this;
        }

        /** {@code bootstrap.dcs.check_timeline}. */
        public Builder checkTimeline(boolean value) {
            dcs.checkTimeline(value);
            return this;
        }

        /** {@code bootstrap.dcs.postgresql.use_pg_rewind}. */
        public Builder usePgRewind(boolean value) {
            dcs.usePgRewind(value);
            return this;
        }

        /** {@code bootstrap.dcs.postgresql.use_slots}. */
        public Builder useSlots(boolean value) {
            dcs.useSlots(value);
            return this;
        }

        /** {@code bootstrap.dcs.member_slots_ttl}. */
        public Builder memberSlotsTtl(Duration value) {
            dcs.memberSlotsTtl(value);
            return this;
        }

        /** {@code bootstrap.dcs.ignore_slots}, by slot name. */
        public Builder ignoreSlots(Set<String> names) {
            dcs.ignoreSlotNames(names);
            return this;
        }

        /**
         * {@code bootstrap.dcs.postgresql.parameters}: PostgreSQL parameters for every member (as
         * PostgreSQL's text), merged with each member's own as Patroni does; replaces earlier ones.
         */
        public Builder postgresqlParameters(java.util.Map<String, String> values) {
            dcs.postgresqlParameters(values);
            return this;
        }

        /**
         * Builds the configuration.
         *
         * @throws HaConfigException naming the setting that breaks a rule
         */
        public HaConfig build() {
            return new HaConfig(scope, name, tags, apiUrl, removeDataDirectoryOnRewindFailure,
                    removeDataDirectoryOnDivergedTimelines, dcs.build());
        }
    }
}
