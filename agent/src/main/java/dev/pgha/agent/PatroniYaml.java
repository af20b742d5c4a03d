package dev.pgha.agent;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pgha.agent.AgentSettings.AgentSettingsException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads a Patroni-style {@code patroni.yml} into the dotted keys {@link AgentSettings} parses
 * ({@code postgresql: {parameters: {max_connections: 200}}} becomes
 * {@code postgresql.parameters.max_connections=200}), remembering the line of every key for the
 * error messages. Scalars become their text; a list is accepted where Patroni takes one
 * ({@code etcd3.hosts}, {@code postgresql.pg_hba}, {@code bootstrap.pg_hba}, {@code bootstrap.initdb})
 * and refused elsewhere, as a mapping is where a single value is expected; {@code null} values
 * count as absent.
 */
final class PatroniYaml {

    /** Keys whose YAML list is joined into one value, with the separator the settings split on. */
    private static final Map<String, String> LISTS = Map.of("etcd.hosts", ",", "etcd3.hosts", ",",
            "postgresql.pg_hba", ";", "bootstrap.pg_hba", ";", "bootstrap.initdb", ",");

    private PatroniYaml() {
    }

    /**
     * The dotted settings of a YAML file, in file order.
     *
     * @param values the settings by dotted key
     * @param lines  the line (1-based) of each key
     */
    record Flat(Map<String, String> values, Map<String, Integer> lines) {
    }

    /** Reads {@code file}; every problem is an {@link AgentSettingsException} naming the key and the line. */
    static Flat read(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(r);
        } catch (IOException e) {
            throw new AgentSettingsException("(file)", "cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Reads YAML text (see {@link #read(Path)}). */
    static Flat read(Reader yaml) throws IOException {
        Flat flat = new Flat(new LinkedHashMap<>(), new LinkedHashMap<>());
        Walker w = new Walker(flat);
        try (JsonParser p = new YAMLFactory().createParser(yaml)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new AgentSettingsException("(file)", "the file is empty; expected a mapping of settings");
            }
            if (t != JsonToken.START_OBJECT) {
                throw new AgentSettingsException("(file)", "line " + line(p) + ": expected a mapping of settings, not "
                        + kind(t));
            }
            w.object(p, "");
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": ";
            String problem = e.getOriginalMessage() == null ? e.getClass().getSimpleName()
                    : e.getOriginalMessage().lines().findFirst().orElse("").strip();
            if (e.getCause() instanceof MarkedYAMLException m && m.getProblemMark() != null) {
                where = "line " + (m.getProblemMark().getLine() + 1) + ", column " + (m.getProblemMark().getColumn() + 1)
                        + ": ";
                problem = m.getProblem();
            }
            String key = w.lastKey == null ? "(file)" : w.lastKey;
            throw new AgentSettingsException(key, "malformed YAML at " + where + problem
                    + (w.lastKey == null ? "" : " (after key " + w.lastKey + ")"));
        }
        return flat;
    }

    private static int line(JsonParser p) {
        return p.currentTokenLocation().getLineNr();
    }

    private static String kind(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "a mapping";
            case START_ARRAY -> "a list";
            default -> "a single value";
        };
    }

    /** Walks the token stream, tracking the path of the current key. */
    private static final class Walker {
        private final Flat flat;
        private String lastKey;

        Walker(Flat flat) {
            this.flat = flat;
        }

        /** The fields of a mapping whose START_OBJECT was just read. */
        void object(JsonParser p, String prefix) throws IOException {
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = prefix + p.currentName();
                lastKey = key;
                int line = line(p);
                JsonToken v = p.nextToken();
                if (v == JsonToken.START_OBJECT) {
                    if (AgentSettings.isSingleValue(key)) {
                        throw new AgentSettingsException(key, "line " + line + ": expected "
                                + AgentSettings.expected(key) + ", not a mapping");
                    }
                    flat.lines().putIfAbsent(key, line);
                    object(p, key + ".");
                } else if (v == JsonToken.START_ARRAY) {
                    put(key, list(p, key, line), line);
                } else if (v == JsonToken.VALUE_NULL) {
                    flat.lines().putIfAbsent(key, line);
                } else {
                    if (AgentSettings.isSection(key)) {
                        // the value is not repeated: a misplaced one could be a password
                        throw new AgentSettingsException(key, "line " + line + ": expected a mapping, not a single value");
                    }
                    put(key, p.getText(), line);
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new AgentSettingsException(prefix.isEmpty() ? "(file)" : prefix.substring(0, prefix.length() - 1),
                        "line " + line(p) + ": unexpected " + t);
            }
        }

        /** A list where Patroni takes one: scalars, or for {@code bootstrap.initdb} single-entry mappings. */
        private String list(JsonParser p, String key, int line) throws IOException {
            String separator = LISTS.get(key);
            if (separator == null) {
                skip(p);
                throw new AgentSettingsException(key, "line " + line + ": expected " + AgentSettings.expected(key)
                        + ", not a list");
            }
            List<String> items = new ArrayList<>();
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == JsonToken.START_OBJECT && key.equals("bootstrap.initdb")) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String option = p.currentName();
                        JsonToken v = p.nextToken();
                        if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                            throw new AgentSettingsException(key, "line " + line(p) + ": option " + option
                                    + " expects a single value, not " + kind(v));
                        }
                        items.add(option + "=" + p.getText());
                    }
                } else if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                    throw new AgentSettingsException(key, "line " + line(p) + ": expected a list of single values, not "
                            + "a list holding " + kind(t));
                } else if (t != JsonToken.VALUE_NULL) {
                    items.add(p.getText().strip());
                }
            }
            return String.join(separator, items);
        }

        private static void skip(JsonParser p) throws IOException {
            p.skipChildren();
        }

        private void put(String key, String value, int line) {
            Integer before = flat.lines().get(key);
            if (flat.values().containsKey(key)) {
                throw new AgentSettingsException(key, "given twice, at lines " + before + " and " + line);
            }
            flat.values().put(key, value);
            flat.lines().put(key, line);
        }
    }
}
