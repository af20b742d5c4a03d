package dev.pgha.agent;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Patroni's {@code PATRONI_*} environment variables as dotted settings, which override the
 * file's: {@code PATRONI_NAME}, {@code PATRONI_SCOPE}, {@code PATRONI_NAMESPACE};
 * {@code PATRONI_RESTAPI_<X>} ({@code LISTEN}, {@code CONNECT_ADDRESS}, ..., and
 * {@code USERNAME}/{@code PASSWORD} for {@code restapi.authentication}); {@code PATRONI_CTL_<X>};
 * {@code PATRONI_POSTGRESQL_<X>} ({@code LISTEN}, {@code CONNECT_ADDRESS}, {@code DATA_DIR},
 * {@code BIN_DIR}, {@code PGPASS}, ...); {@code PATRONI_LOG_<X>}; {@code PATRONI_SUPERUSER_},
 * {@code PATRONI_REPLICATION_} and {@code PATRONI_REWIND_USERNAME}/{@code PASSWORD}/{@code SSLMODE}/...;
 * a DCS's {@code PATRONI_<DCS>_<X>} ({@code PATRONI_ETCD3_HOSTS}, {@code _HOST}, {@code _PROTOCOL},
 * {@code _CACERT}, {@code _CERT}, {@code _KEY}, and for etcd {@code _USERNAME}/{@code _PASSWORD});
 * and any other {@code PATRONI_<USER>_PASSWORD}, Patroni's {@code bootstrap.users}. The names
 * are Patroni 3's ({@code patroni/config.py}); what becomes of each key (used, ignored with a
 * warning, refused) is {@link AgentSettings}' rule. Other {@code PATRONI_*} variables are not
 * settings, for Patroni neither, and are left alone.
 */
final class PatroniEnvironment {

    static final String PREFIX = "PATRONI_";
    private static final List<String> RESTAPI = List.of("listen", "connect_address", "certfile", "keyfile",
            "keyfile_password", "cafile", "ciphers", "verify_client", "http_extra_headers", "https_extra_headers",
            "allowlist", "allowlist_include_members");
    private static final List<String> CTL = List.of("insecure", "cacert", "certfile", "keyfile", "keyfile_password");
    private static final List<String> POSTGRESQL = List.of("listen", "connect_address", "proxy_address",
            "config_dir", "data_dir", "pgpass", "bin_dir");
    private static final List<String> LOG = List.of("level", "traceback_level", "format", "dateformat",
            "max_queue_size", "dir", "file_size", "file_num", "loggers");
    private static final List<String> RAFT = List.of("data_dir", "self_addr", "partner_addrs", "password",
            "bind_addr");
    private static final List<String> AUTH = List.of("username", "password", "sslmode", "sslcert", "sslkey",
            "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "gssencmode", "channel_binding");
    /** The suffixes Patroni reads as {@code PATRONI_<DCS>_<SUFFIX>}. */
    private static final Set<String> DCS_SUFFIXES = Set.of("HOST", "HOSTS", "PORT", "USE_PROXIES", "PROTOCOL", "SRV",
            "SRV_SUFFIX", "URL", "PROXY", "CACERT", "CERT", "KEY", "VERIFY", "TOKEN", "CHECKS", "DC", "CONSISTENCY",
            "REGISTER_SERVICE", "SERVICE_CHECK_INTERVAL", "SERVICE_CHECK_TLS_SERVER_NAME", "SERVICE_TAGS", "NAMESPACE",
            "CONTEXT", "USE_ENDPOINTS", "SCOPE_LABEL", "ROLE_LABEL", "POD_IP", "PORTS", "LABELS", "BYPASS_API_SERVICE",
            "RETRIABLE_HTTP_CODES", "KEY_PASSWORD", "USE_SSL", "SET_ACLS", "GROUP", "DATABASE");

    private PatroniEnvironment() {
    }

    /**
     * One setting from the environment.
     *
     * @param value    its value (a list such as {@code PATRONI_ETCD3_HOSTS} comma-separated)
     * @param variable the variable it came from
     */
    record Override(String value, String variable) {
    }

    /** The settings {@code env} gives, by dotted key. */
    static Map<String, Override> settings(Map<String, String> env) {
        Map<String, String> vars = new TreeMap<>();
        env.forEach((k, v) -> {
            if (k.startsWith(PREFIX) && v != null && !v.isEmpty()) {
                vars.put(k, v);
            }
        });
        Map<String, Override> out = new LinkedHashMap<>();
        for (String p : List.of("name", "namespace", "scope")) {
            take(vars, out, p.toUpperCase(Locale.ROOT), p);
        }
        for (String[] old : new String[][] {{"LOGLEVEL", "level"}, {"LOGFORMAT", "format"}, {"LOG_DATEFMT", "dateformat"}}) {
            take(vars, out, old[0], "log." + old[1]);
        }
        section(vars, out, "restapi", RESTAPI);
        section(vars, out, "ctl", CTL);
        section(vars, out, "postgresql", POSTGRESQL);
        section(vars, out, "log", LOG);
        section(vars, out, "raft", RAFT);
        take(vars, out, "RESTAPI_USERNAME", "restapi.authentication.username");
        take(vars, out, "RESTAPI_PASSWORD", "restapi.authentication.password");
        for (String role : List.of("replication", "superuser", "rewind")) {
            for (String param : AUTH) {
                take(vars, out, (role + "_" + param).toUpperCase(Locale.ROOT),
                        "postgresql.authentication." + role + "." + param);
            }
        }
        for (String var : List.copyOf(vars.keySet())) {
            String rest = var.substring(PREFIX.length());
            int cut = rest.indexOf('_');
            if (cut > 0 && DCS_SUFFIXES.contains(rest.substring(cut + 1))) {
                String value = vars.remove(var);
                if (rest.endsWith("HOSTS")) {
                    value = list(value);
                }
                out.put(rest.substring(0, cut).toLowerCase(Locale.ROOT) + "." + rest.substring(cut + 1).toLowerCase(Locale.ROOT),
                        new Override(value, var));
            }
        }
        for (String dcs : List.of("ETCD", "ETCD3")) {
            take(vars, out, dcs + "_USERNAME", dcs.toLowerCase(Locale.ROOT) + ".username");
            take(vars, out, dcs + "_PASSWORD", dcs.toLowerCase(Locale.ROOT) + ".password");
        }
        for (String var : List.copyOf(vars.keySet())) {
            if (var.endsWith("_PASSWORD") && var.length() > PREFIX.length() + "_PASSWORD".length()) {
                String user = var.substring(PREFIX.length(), var.length() - "_PASSWORD".length()).toLowerCase(Locale.ROOT);
                out.put("bootstrap.users." + user + ".password", new Override(vars.remove(var), var));
            }
        }
        return out;
    }

    private static void section(Map<String, String> vars, Map<String, Override> out, String section, List<String> params) {
        for (String p : params) {
            take(vars, out, (section + "_" + p).toUpperCase(Locale.ROOT), section + "." + p);
        }
    }

    private static void take(Map<String, String> vars, Map<String, Override> out, String suffix, String key) {
        String var = PREFIX + suffix;
        String v = vars.remove(var);
        if (v != null) {
            out.put(key, new Override(key.endsWith("partner_addrs") || key.endsWith("allowlist") ? list(v) : v, var));
        }
    }

    /** Patroni's list forms {@code a,b}, {@code [a, b]} or {@code ["a", "b"]} as {@code a,b}. */
    static String list(String value) {
        String v = value.strip();
        if (v.startsWith("[") && v.endsWith("]")) {
            v = v.substring(1, v.length() - 1);
        }
        StringBuilder sb = new StringBuilder();
        for (String item : v.split(",")) {
            String s = item.strip();
            if (s.length() >= 2 && (s.startsWith("\"") && s.endsWith("\"") || s.startsWith("'") && s.endsWith("'"))) {
                s = s.substring(1, s.length() - 1);
            }
            if (!s.isEmpty()) {
                sb.append(sb.length() == 0 ? "" : ",").append(s);
            }
        }
        return sb.toString();
    }
}
