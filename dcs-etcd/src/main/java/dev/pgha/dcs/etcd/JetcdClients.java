package dev.pgha.dcs.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.MethodDescriptor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Builds the jetcd client an {@link EtcdDcsClient} owns: endpoints, TLS, auth, gRPC keepalive
 * (so a hung etcd member is noticed and calls move to the others), and a deadline of one retry
 * timeout on every unary request, so gRPC itself abandons a request the adapter no longer waits
 * for. Streams (watch, lease keep-alive) carry no deadline. A lease keep-alive stream carries exactly
 * one request ({@link OneRequestKeepAlive}).
 */
final class JetcdClients {

    private JetcdClients() {
    }

    static Client build(EtcdDcsClientBuilder b, RetryTimeoutHolder retryTimeout) {
        ClientBuilder cb = Client.builder()
                .endpoints(b.endpointUrls().toArray(String[]::new))
                .connectTimeout(b.connectTimeout())
                .keepaliveTime(b.keepaliveTime())
                .keepaliveTimeout(b.keepaliveTimeout())
                .keepaliveWithoutCalls(true)
                .interceptor(new DeadlineInterceptor(retryTimeout), new OneRequestKeepAlive());
        if (b.user() != null) {
            cb.user(ByteSequence.from(b.user(), StandardCharsets.UTF_8))
                    .password(ByteSequence.from(b.password(), StandardCharsets.UTF_8));
        }
        if (b.authority() != null) {
            cb.authority(b.authority());
        }
        if (b.tls()) {
            readable(b.caFile(), "TLS CA file");
            readable(b.certFile(), "TLS client certificate");
            readable(b.keyFile(), "TLS client key");
            try {
                cb.sslContext(ssl -> {
                    if (b.caFile() != null) {
                        ssl.trustManager(b.caFile().toFile());
                    }
                    if (b.certFile() != null) {
                        ssl.keyManager(b.certFile().toFile(), b.keyFile().toFile());
                    }
                });
            } catch (SSLException | IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot set up TLS for etcd from " + b.caFile() + ", "
                        + b.certFile() + ", " + b.keyFile() + ": " + e.getMessage(), e);
            }
        }
        return cb.build();
    }

    private static void readable(Path file, String what) {
        if (file != null && !Files.isReadable(file)) {
            throw new IllegalArgumentException(what + " is not a readable file: " + file);
        }
    }

    /** Gives every unary gRPC call a deadline of one retry timeout. */
    static final class DeadlineInterceptor implements ClientInterceptor {

        private final RetryTimeoutHolder retryTimeout;

        DeadlineInterceptor(RetryTimeoutHolder retryTimeout) {
            this.retryTimeout = retryTimeout;
        }

        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            if (method.getType() == MethodDescriptor.MethodType.UNARY && options.getDeadline() == null) {
                options = options.withDeadlineAfter(retryTimeout.get().toMillis(), TimeUnit.MILLISECONDS);
            }
            return next.newCall(method, options);
        }
    }

    /**
     * Makes jetcd's {@code keepAliveOnce} one message: jetcd 0.8.7 writes its keep-alive request on
     * a new {@code LeaseKeepAlive} stream and, once answered, ends the stream with the same request
     * object again, which etcd takes as a second keep-alive. On a {@code LeaseKeepAlive} call this
     * drops a message that is the very object sent last on that call and passes the half-close
     * on, so the stream carries one request. Every other message passes, so a periodic keep-alive
     * stream (a new request object each time) is untouched.
     */
    static final class OneRequestKeepAlive implements ClientInterceptor {

        static final String METHOD = "etcdserverpb.Lease/LeaseKeepAlive";

        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            ClientCall<Q, R> call = next.newCall(method, options);
            if (!METHOD.equals(method.getFullMethodName())) {
                return call;
            }
            return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
                private volatile Object last;

                @Override
                public void sendMessage(Q message) {
                    if (message == last) {
                        return;
                    }
                    last = message;
                    super.sendMessage(message);
                }
            };
        }
    }
}
