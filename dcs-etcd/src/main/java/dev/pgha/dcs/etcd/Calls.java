package dev.pgha.dcs.etcd;

import dev.pgha.dcs.DcsException;
import dev.pgha.dcs.DcsException.Reason;
import io.etcd.jetcd.Response;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.DeleteResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.grpc.Status;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;

/**
 * One SPI call's time budget and the translation of jetcd's outcomes into {@link DcsException}s.
 * Every future a call waits on is bounded by what is left of the budget (jetcd's own futures may
 * never complete: with gRPC's wait-for-ready an unreachable endpoint is waited for forever), and
 * abandoned futures are cancelled.
 */
final class Calls {

    private final String member;
    private final String op;
    private final Duration budget;
    private final long deadlineNanos;
    private final LongConsumer writeRevisions;

    private Calls(String member, String op, Duration budget, LongConsumer writeRevisions) {
        this.member = member;
        this.op = op;
        this.budget = budget;
        this.deadlineNanos = System.nanoTime() + budget.toNanos();
        this.writeRevisions = writeRevisions;
    }

    /** Starts the clock of one SPI call that may take at most {@code budget}. */
    static Calls start(String member, String op, Duration budget) {
        return new Calls(member, op, budget, r -> { });
    }

    /**
     * Starts the clock of one SPI call; the header revision of every write's answer (put, delete,
     * transaction) goes to {@code writeRevisions}.
     */
    static Calls start(String member, String op, Duration budget, LongConsumer writeRevisions) {
        return new Calls(member, op, budget, writeRevisions);
    }

    /** What is left of the budget, in nanoseconds (0 when spent). */
    long leftNanos() {
        return Math.max(0, deadlineNanos - System.nanoTime());
    }

    /** The operation's name, for messages. */
    String op() {
        return op;
    }

    /** Waits for the future within what is left of the budget. */
    <T> T await(CompletableFuture<T> future, String step) {
        long left = deadlineNanos - System.nanoTime();
        try {
            if (left <= 0) {
                throw new TimeoutException();
            }
            T result = future.get(left, TimeUnit.NANOSECONDS);
            if (result instanceof PutResponse || result instanceof DeleteResponse
                    || result instanceof TxnResponse t && wrote(t)) {
                writeRevisions.accept(((Response) result).getHeader().getRevision());
            }
            return result;
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new DcsException(Reason.TIMEOUT, message(step, "no answer within the retry timeout of " + budget), e);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new DcsException(Reason.INTERRUPTED, message(step, "interrupted while waiting for etcd"), e);
        } catch (ExecutionException e) {
            throw failure(step, e.getCause());
        } catch (CancellationException e) {
            throw new DcsException(Reason.UNAVAILABLE, message(step, "the request was cancelled (client closed?)"), e);
        }
    }

    /**
     * Whether a transaction wrote (a put or delete ran in the branch taken, or in a nested
     * transaction): a transaction that only compared or read answers with the store's current
     * revision, which is no write of this client's.
     */
    static boolean wrote(TxnResponse t) {
        return !t.getPutResponses().isEmpty() || !t.getDeleteResponses().isEmpty()
                || t.getTxnResponses().stream().anyMatch(Calls::wrote);
    }

    /** The exception for a failed request. */
    DcsException failure(String step, Throwable cause) {
        Throwable t = unwrap(cause);
        Status status = statusOf(t);
        String description = describe(t, status);
        return new DcsException(reasonOf(status, description), message(step, description), t);
    }

    /** Whether the failure means the lease is unknown to etcd (expired or revoked). */
    static boolean isLeaseNotFound(Throwable cause) {
        Throwable t = unwrap(cause);
        String text = String.valueOf(t.getMessage()) + " " + statusOf(t).getDescription();
        return text.contains("requested lease not found");
    }

    /** The reason for a gRPC status and its description. */
    static Reason reasonOf(Status status, String description) {
        String d = description.toLowerCase(Locale.ROOT);
        if (d.contains("authentication failed") || d.contains("invalid auth token") || d.contains("permission denied")
                || d.contains("user name is empty") || d.contains("auth: ")) {
            return Reason.AUTH;
        }
        return switch (status.getCode()) {
            case UNAUTHENTICATED, PERMISSION_DENIED -> Reason.AUTH;
            case DEADLINE_EXCEEDED -> Reason.TIMEOUT;
            case UNAVAILABLE, CANCELLED, ABORTED, RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN -> Reason.UNAVAILABLE;
            default -> Reason.PROTOCOL;
        };
    }

    private String message(String step, String what) {
        return member + ": " + op + (step.isEmpty() ? "" : " (" + step + ")") + ": " + what;
    }

    /** The gRPC status of a failure; jetcd's own exceptions carry it as an error code. */
    static Status statusOf(Throwable t) {
        if (t instanceof EtcdException e && e.getErrorCode() != null) {
            try {
                return Status.fromCode(Status.Code.valueOf(e.getErrorCode().name())).withDescription(e.getMessage());
            } catch (IllegalArgumentException unknownCode) {
                return Status.UNKNOWN.withDescription(e.getMessage());
            }
        }
        return Status.fromThrowable(t);
    }

    private static String describe(Throwable t, Status status) {
        if (t instanceof EtcdException e) {
            return e.getErrorCode() + ": " + e.getMessage();
        }
        String d = status.getDescription();
        return status.getCode() + (d == null ? ": " + t : ": " + d);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable cur = t;
        while ((cur instanceof CompletionException || cur instanceof ExecutionException) && cur.getCause() != null) {
            cur = cur.getCause();
        }
        return cur;
    }
}
