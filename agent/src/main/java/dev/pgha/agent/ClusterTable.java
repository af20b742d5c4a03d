package dev.pgha.agent;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Renders a cluster the way {@code patronictl list} shows a Patroni cluster, from its DCS keys
 * alone: who is a member and who is the leader come from the DCS (what patronictl reads), the
 * host, state, timeline and WAL positions from the member keys. Used by the agent's {@code list};
 * the examples render their simulated clusters with the same layout ({@link #format}).
 */
public final class ClusterTable {

    private static final String[] HEADER = {"Member", "Host", "Role", "State", "TL", "Lag in MB"};
    private static final double MB = 1024.0 * 1024.0;

    private ClusterTable() {
    }

    /**
     * The table from the DCS alone, as {@code patronictl list} builds it: the members and the
     * leader key; timeline, state and WAL positions from the member keys (refreshed every
     * {@code loop_wait}). The lag is the leader's published WAL position minus the replica's.
     *
     * @param expected members to mention when they have no member key (may be empty)
     */
    public static String render(ClusterView view, String scope, List<String> expected) {
        String leader = view.leaderName().orElse(null);
        Member leaderMember = view.leaderMember().orElse(null);
        List<String[]> rows = new ArrayList<>();
        view.members().stream().sorted(Comparator.comparing(Member::name)).forEach(m -> {
            boolean isLeader = m.name().equals(leader);
            rows.add(new String[] {
                m.name(),
                host(m),
                isLeader ? "Leader" : "Replica",
                state(m),
                m.timeline() == null ? "" : Long.toString(m.timeline()),
                isLeader ? "" : lag(leaderMember, m),
            });
        });
        List<String> missing = expected.stream().filter(n -> view.member(n).isEmpty()).toList();
        return format(scope, view, rows, missing);
    }

    /** The lag column for {@code bytes} behind the leader: {@code 0} or MiB with one decimal. */
    public static String lagInMb(long bytes) {
        long b = Math.max(0, bytes);
        return b == 0 ? "0" : String.format(Locale.ROOT, "%.1f", b / MB);
    }

    private static String lag(Member leader, Member replica) {
        if (leader == null || leader.xlogLocation() == null || !replica.isRunning() || replica.walPosition() == 0) {
            return "unknown";
        }
        return lagInMb(leader.xlogLocation() - replica.walPosition());
    }

    /**
     * The table around {@code rows} (Member, Host, Role, State, TL, Lag in MB), one line per row,
     * each line ending with a newline.
     *
     * @param missing members to mention as not in the DCS (may be empty)
     */
    public static String format(String scope, ClusterView view, List<String[]> rows, List<String> missing) {
        int[] width = new int[HEADER.length];
        for (int i = 0; i < HEADER.length; i++) {
            width[i] = HEADER[i].length();
            for (String[] r : rows) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        String rule = rule(width);
        String title = "+ Cluster: " + scope + (view.hasValidInitialize() ? " (" + view.initialize() + ") " : " ");
        StringBuilder sb = new StringBuilder();
        sb.append(title).append(rule.length() > title.length() ? rule.substring(title.length()) : "").append('\n');
        sb.append(row(HEADER, width)).append('\n').append(rule).append('\n');
        for (String[] r : rows) {
            sb.append(row(r, width)).append('\n');
        }
        sb.append(rule).append('\n');
        if (!missing.isEmpty()) {
            sb.append("  (not in the DCS: ").append(String.join(", ", missing)).append(")\n");
        }
        return sb.toString();
    }

    /** The {@code host:port} of the member's {@code conn_url}, or empty. */
    public static String host(Member m) {
        String url = m.connUrl();
        if (url == null) {
            return "";
        }
        int start = url.indexOf("://");
        String rest = start < 0 ? url : url.substring(start + 3);
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }

    /** Patroni 3's State column: "streaming" for a replica that streams, otherwise the member's state. */
    public static String state(Member m) {
        if (!m.isPrimaryRole() && m.isRunning() && "streaming".equals(m.replicationState())) {
            return "streaming";
        }
        return m.state() == null ? "" : m.state();
    }

    private static String rule(int[] width) {
        StringBuilder sb = new StringBuilder("+");
        for (int w : width) {
            sb.append("-".repeat(w + 2)).append('+');
        }
        return sb.toString();
    }

    private static String row(String[] cells, int[] width) {
        StringBuilder sb = new StringBuilder("|");
        for (int i = 0; i < cells.length; i++) {
            boolean right = i == 4 || i == 5;
            String c = cells[i];
            String pad = " ".repeat(width[i] - c.length());
            sb.append(' ').append(right ? pad + c : c + pad).append(" |");
        }
        return sb.toString();
    }
}
