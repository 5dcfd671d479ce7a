package dev.kiln.runtime.dist;

import java.time.Duration;
import java.util.Objects;

/**
 * Timeouts and limits of a {@link RendezvousStore}.
 *
 * @param connectTimeout how long a client keeps retrying a refused connection: rank 0 may start
 *                       after the others (default 5 min, as PyTorch's TCP store)
 * @param heartbeat      how often a server waiting to answer a GET says it is still there
 * @param serverSilence  how long a client waits for any byte from the server before it calls
 *                       the server gone (a host that vanished sends no FIN)
 * @param maxFrameBytes  the largest frame either side accepts; a longer one closes the connection
 * @param namespace      prefix of every key, so a restarted job never reads a key of an earlier
 *                       attempt; null means {@code attempt-<n>} from the process group
 */
public record StoreOptions(Duration connectTimeout, Duration heartbeat, Duration serverSilence, int maxFrameBytes, String namespace) {

    public StoreOptions {
        positive(connectTimeout, "connectTimeout");
        positive(heartbeat, "heartbeat");
        positive(serverSilence, "serverSilence");
        if (serverSilence.compareTo(heartbeat.multipliedBy(2)) < 0)
            throw new IllegalArgumentException("serverSilence " + serverSilence + " must be at least twice the heartbeat " + heartbeat
                    + ", or a slow heartbeat looks like a dead server");
        if (maxFrameBytes < 64) throw new IllegalArgumentException("maxFrameBytes must be >= 64, got " + maxFrameBytes);
        if (namespace != null && (namespace.isEmpty() || namespace.contains("/")))
            throw new IllegalArgumentException("namespace must be non-empty and without '/', got '" + namespace + "'");
    }

    public static StoreOptions defaults() { return builder().build(); }

    public static Builder builder() { return new Builder(); }

    private static void positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(name + " must be positive, got " + d);
    }

    public static final class Builder {
        private Duration connectTimeout = Duration.ofMinutes(5);
        private Duration heartbeat = Duration.ofSeconds(1);
        private Duration serverSilence = Duration.ofSeconds(10);
        private int maxFrameBytes = 4 << 20;
        private String namespace;

        public Builder connectTimeout(Duration d) { this.connectTimeout = d; return this; }

        public Builder heartbeat(Duration d) { this.heartbeat = d; return this; }

        public Builder serverSilence(Duration d) { this.serverSilence = d; return this; }

        public Builder maxFrameBytes(int n) { this.maxFrameBytes = n; return this; }

        public Builder namespace(String ns) { this.namespace = ns; return this; }

        public StoreOptions build() { return new StoreOptions(connectTimeout, heartbeat, serverSilence, maxFrameBytes, namespace); }
    }
}
