package dev.pgha;

import dev.pgha.cluster.ClusterConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni's {@code set_dynamic_configuration()}: which cluster-wide settings are in force, from
 * the {@code config} key of each cycle's view. A valid key's settings act from this cycle on. A
 * key that is missing or empty changes nothing (a member starts with its {@code bootstrap.dcs}).
 * A key another tool filled with a bad value changes nothing either: the settings in force stay,
 * and the problem is logged once, naming the setting and the rule, when the key's value changes.
 */
final class DynamicSettings {

    private static final Logger log = LoggerFactory.getLogger(DynamicSettings.class);

    private final String member;

    DynamicSettings(String member) {
        this.member = member;
    }

    /**
     * The settings in force after reading {@code key}.
     *
     * @param current the settings in force before
     * @param seen    the key's value last looked at: an unchanged key is neither decoded nor logged again
     */
    ClusterSettings next(ClusterConfig key, ClusterSettings current, Map<String, Object> seen) {
        Map<String, Object> data = key.data();
        if (data.isEmpty() || data.equals(seen)) {
            return current;
        }
        ClusterSettings read;
        try {
            read = ClusterSettings.fromConfig(data);
        } catch (HaConfigException e) {
            log.error("{}: ignoring the config key (version {}), the settings in force stay: {}", member,
                    key.version(), e.getMessage());
            return current;
        }
        if (!read.equals(current)) {
            log.info("{}: settings changed by the config key (version {}): {}", member, key.version(),
                    String.join(", ", changes(current, read)));
        }
        return read;
    }

    /** "name old -> new" for every setting that differs, by Patroni's names. */
    static List<String> changes(ClusterSettings before, ClusterSettings after) {
        Map<String, Object> a = flatten(before.toConfig(), "");
        Map<String, Object> b = flatten(after.toConfig(), "");
        List<String> out = new ArrayList<>();
        Set<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        for (String k : keys) {
            if (!Objects.equals(a.get(k), b.get(k))) {
                out.add(k + " " + a.getOrDefault(k, "(none)") + " -> " + b.getOrDefault(k, "(none)"));
            }
        }
        return out;
    }

    private static Map<String, Object> flatten(Map<String, ?> m, String prefix) {
        Map<String, Object> out = new TreeMap<>();
        m.forEach((k, v) -> {
            if (v instanceof Map<?, ?> inner) {
                @SuppressWarnings("unchecked")
                Map<String, ?> sub = (Map<String, ?>) inner;
                out.putAll(flatten(sub, prefix + k + "."));
            } else {
                out.put(prefix + k, v);
            }
        });
        return out;
    }
}
