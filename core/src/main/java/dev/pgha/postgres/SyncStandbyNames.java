package dev.pgha.postgres;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A value of PostgreSQL's {@code synchronous_standby_names}, parsed, and the values the leader
 * writes: {@code FIRST n (a,b)} for {@code synchronous_mode: on}, {@code ANY n (a,b)} for quorum,
 * and Patroni's placeholder {@value #STRICT_PLACEHOLDER} — a name no standby has, so that commits
 * wait — when strict mode has no standby to name. A standby name that is not a plain identifier
 * (or is {@code first} / {@code any}) is double-quoted.
 *
 * @param type    {@link Type#OFF} for an empty value
 * @param num     how many of {@code members} must confirm a commit
 * @param members the names listed, in their order (the placeholder left out, {@code *} kept)
 */
public record SyncStandbyNames(Type type, int num, List<String> members) {

    /** Patroni's name for "a synchronous standby that does not exist": commits wait. */
    public static final String STRICT_PLACEHOLDER = "__patroni_strict_sync_replica_placeholder__";

    /** No synchronous replication. */
    public static final SyncStandbyNames OFF = new SyncStandbyNames(Type.OFF, 0, List.of());

    private static final Pattern TOKEN = Pattern.compile(
            "(?<space>\\s+)|(?<ident>[A-Za-z_][A-Za-z_0-9$]*)|(?<dquot>\"(?:[^\"]|\"\")*\")|(?<star>\\*)"
                    + "|(?<num>\\d+)|(?<comma>,)|(?<open>\\()|(?<close>\\))|(?<junk>.)");
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z_0-9$]*");

    /** How PostgreSQL chooses the standbys that confirm a commit. */
    public enum Type {
        /** Empty: commits do not wait for standbys. */
        OFF,
        /** {@code FIRST n (...)} (or a plain list): the first n connected in list order. */
        PRIORITY,
        /** {@code ANY n (...)}: any n of the list. */
        QUORUM
    }

    /** Copies the names. */
    public SyncStandbyNames {
        Objects.requireNonNull(type, "type");
        members = List.copyOf(members);
    }

    /** Whether {@code *} is listed (any standby counts). */
    public boolean hasStar() {
        return members.contains("*");
    }

    /** The listed names as a set (the placeholder is never among them). */
    public Set<String> names() {
        return Collections.unmodifiableSet(new TreeSet<>(members));
    }

    /**
     * Parses a value as PostgreSQL does: empty; a list ({@code a, b}: the first one); {@code n (...)}
     * or {@code FIRST n (...)}; {@code ANY n (...)}.
     *
     * @throws IllegalArgumentException naming the position of what cannot be parsed
     */
    public static SyncStandbyNames parse(String value) {
        List<String[]> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(Objects.requireNonNullElse(value, ""));
        while (m.find()) {
            for (String kind : List.of("ident", "dquot", "star", "num", "comma", "open", "close", "junk")) {
                if (m.group(kind) != null) {
                    tokens.add(new String[] {kind, m.group(kind), Integer.toString(m.start())});
                }
            }
        }
        if (tokens.isEmpty()) {
            return OFF;
        }
        Type type = Type.PRIORITY;
        int num = 1;
        List<String[]> list = tokens;
        String first = tokens.get(0)[1].toLowerCase(Locale.ROOT);
        boolean closed = tokens.get(tokens.size() - 1)[0].equals("close");
        if (tokens.size() >= 3 && tokens.get(0)[0].equals("ident") && (first.equals("any") || first.equals("first"))
                && tokens.get(1)[0].equals("num") && tokens.get(2)[0].equals("open") && closed) {
            type = first.equals("any") ? Type.QUORUM : Type.PRIORITY;
            num = Integer.parseInt(tokens.get(1)[1]);
            list = tokens.subList(3, tokens.size() - 1);
        } else if (tokens.size() >= 2 && tokens.get(0)[0].equals("num") && tokens.get(1)[0].equals("open") && closed) {
            num = Integer.parseInt(tokens.get(0)[1]);
            list = tokens.subList(2, tokens.size() - 1);
        }
        List<String> members = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String[] t = list.get(i);
            if (i % 2 == 1) {
                if (!t[0].equals("comma") || i == list.size() - 1) {
                    throw unparsable(value, t);
                }
            } else if (t[0].equals("ident") || t[0].equals("star")) {
                members.add(t[1]);
            } else if (t[0].equals("dquot")) {
                members.add(t[1].substring(1, t[1].length() - 1).replace("\"\"", "\""));
            } else {
                throw unparsable(value, t);
            }
        }
        if (members.isEmpty()) {
            throw new IllegalArgumentException("Unparsable synchronous_standby_names value '" + value
                    + "': no standby named");
        }
        members.remove(STRICT_PLACEHOLDER);
        return new SyncStandbyNames(type, num, members);
    }

    private static IllegalArgumentException unparsable(String value, String[] token) {
        return new IllegalArgumentException("Unparsable synchronous_standby_names value '" + value
                + "': unexpected " + token[0] + " '" + token[1] + "' at " + token[2]);
    }

    /**
     * The value the leader writes: empty for no standbys and {@code num} 0; the placeholder when
     * {@code num} is at least 1 and nobody is named (strict mode: commits wait); else
     * {@code FIRST num (...)} or {@code ANY num (...)} over the names sorted.
     *
     * @param quorum {@code ANY} instead of {@code FIRST}
     */
    public static String format(Collection<String> standbys, int num, boolean quorum) {
        List<String> names = new ArrayList<>(new TreeSet<>(standbys));
        if (names.isEmpty() && num <= 0) {
            return "";
        }
        if (names.isEmpty()) {
            names = List.of(STRICT_PLACEHOLDER);
            num = 1;
        }
        List<String> quoted = names.stream().map(SyncStandbyNames::quote).toList();
        int n = Math.max(1, Math.min(num, names.size()));
        return (quorum ? "ANY " : "FIRST ") + n + " (" + String.join(",", quoted) + ")";
    }

    /** A standby name as {@code synchronous_standby_names} needs it: double-quoted unless a plain identifier. */
    public static String quote(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (PLAIN.matcher(name).matches() && !lower.equals("first") && !lower.equals("any")) {
            return name;
        }
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
