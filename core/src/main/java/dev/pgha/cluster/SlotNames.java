package dev.pgha.cluster;

/**
 * Names of the physical replication slots that the primary keeps for its replicas, derived from
 * member names exactly as Patroni's {@code slot_name_from_member_name()} does: lower-case;
 * {@code -} and {@code .} become {@code _}; any other character outside {@code [a-z0-9_]} becomes
 * {@code u} followed by its code point in (at least) four decimal digits; the result is cut to 63
 * characters, PostgreSQL's longest identifier.
 */
public final class SlotNames {

    /** PostgreSQL's longest identifier (NAMEDATALEN - 1). */
    public static final int MAX_LENGTH = 63;

    private SlotNames() {
    }

    /**
     * The slot name of a member.
     *
     * @param memberName a member's name
     * @return its slot name, e.g. {@code "node-1.dc"} → {@code "node_1_dc"}, {@code "nö"} → {@code "nu0246"}
     */
    public static String fromMemberName(String memberName) {
        // Python's str.lower() works per code point; Java's toLowerCase(Locale.ROOT) matches it closely enough.
        String lower = memberName.toLowerCase(java.util.Locale.ROOT);
        StringBuilder sb = new StringBuilder(lower.length());
        for (int i = 0; i < lower.length(); ) {
            int c = lower.codePointAt(i);
            i += Character.charCount(c);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
                sb.append((char) c);
            } else if (c == '-' || c == '.') {
                sb.append('_');
            } else {
                sb.append('u').append(String.format(java.util.Locale.ROOT, "%04d", c));
            }
        }
        return sb.length() > MAX_LENGTH ? sb.substring(0, MAX_LENGTH) : sb.toString();
    }

    /**
     * Whether {@code name} could be a member slot name: only {@code [a-z0-9_]}, 1 to 63 characters.
     * Slots named otherwise were not made by pgha and are never dropped by it.
     */
    public static boolean isValid(String name) {
        return name != null && !name.isEmpty() && name.length() <= MAX_LENGTH && name.chars()
                .allMatch(c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    }
}
