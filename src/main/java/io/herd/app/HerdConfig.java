package io.herd.app;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The service's {@code herd.*} settings (application.properties lists each with its environment override). */
@ConfigMapping(prefix = "herd")
public interface HerdConfig {

    /** Folder for local state: the embedded broker's log and the generated demo model. */
    @WithDefault("data")
    Path dataDir();

    Model model();

    Engine engine();

    Compute compute();

    Kafka kafka();

    Serving serving();

    Http http();

    Shutdown shutdown();

    Dedupe dedupe();

    /** Runs of one request id at most; a record that would start one more is dead-lettered (max_attempts_exceeded). */
    @WithDefault("3")
    int maxAttempts();

    ReplyTo replyTo();

    Rebalance rebalance();

    Attempts attempts();

    Testing testing();

    Image image();

    /** Bounds on a request's images and where they may come from (kafka-topics/README.md lists them). */
    interface Image {
        /** Encoded bytes of one image (a data URL's decoded payload or a fetched body). */
        @WithDefault("20971520")
        long maxBytes();

        /** Width × height of one image, read from its header before any pixel is decoded. */
        @WithDefault("40000000")
        long maxPixels();

        @WithDefault("8")
        int maxPerRequest();

        /** Tiles (grid tiles plus global thumbnails) over all images of one request. */
        @WithDefault("136")
        int maxTilesPerRequest();

        /** Hosts whose http(s) image URLs are fetched: comma-separated, exact or *.suffix; empty → data URLs only. */
        Optional<String> urlAllowed();

        /** Longest wait for the connection to an image URL's host. */
        @WithDefault("PT3S")
        Duration urlConnectTimeout();

        /** Longest time all image URL fetches of one request may take together (connect, headers and body). */
        @WithDefault("PT10S")
        Duration urlTimeout();
    }

    interface Rebalance {
        /** Longest a revoke waits for the marker writes and events of the records it takes away. */
        @WithDefault("PT15S")
        Duration revokeTimeout();
    }

    interface Attempts {
        /** How long a running marker without a finished one is remembered (as long as the attempts topic keeps it). */
        @WithDefault("P1D")
        Duration runningRetention();
    }

    /** Settings only the fault suite sets. */
    interface Testing {
        /** A request whose text contains this halts the process when it starts (empty: off). */
        Optional<String> crashMarker();
    }

    interface ReplyTo {
        /** Full-match pattern for reply_to topics (the service's own topics and names starting "__" never qualify). */
        @WithDefault("herd\\.responses(\\..+)?")
        String allowed();
    }

    interface Dedupe {
        /** How long a finished request id is remembered, so a re-delivered duplicate is not generated again. */
        @WithDefault("PT1H")
        Duration retention();
    }

    interface Model {
        /** Checkpoint folder; empty → the demo model in {dataDir}/demo-model, generated on first start. */
        Optional<Path> dir();

        /** Name requests may give in "model"; defaults to the checkpoint folder's name. */
        Optional<String> name();

        /**
         * Chat template (HERD_CHAT_TEMPLATE): release, pythonic or a Jinja file; empty → the checkpoint's own
         * template if it has one, else the built-in Llama 4 layout.
         */
        Optional<String> chatTemplate();
    }

    interface Engine {
        /** KV cache memory for all sequences (bytes; suffixes k, m, g not supported here: write the number). */
        @WithDefault("268435456")
        long kvCacheBytes();

        /** Longest prompt + generation; capped by the model and the KV pool. */
        @WithDefault("8192")
        int maxModelLen();

        @WithDefault("64")
        int maxNumSeqs();

        @WithDefault("2048")
        int maxNumBatchedTokens();

        /** Requests accepted by the engine but not yet scheduled. */
        @WithDefault("1024")
        int queueCapacity();

        /** f32 or bf16 numerics. */
        @WithDefault("F32")
        io.herd.model.Precision precision();

        /** none or q8. */
        @WithDefault("NONE")
        io.herd.model.WeightQuantization quantization();

        /**
         * Internal requests run before the service reports ready, so the first user request does not wait for the JIT
         * (milliseconds to wait for them; 0 turns the warm-up off).
         */
        @WithDefault("120000")
        long warmUpTimeoutMillis();
    }

    interface Compute {
        /** auto (CUDA when a GPU, the CUDA libraries and the bundled kernels are usable, else CPU), cpu or cuda. */
        @WithDefault("auto")
        String backend();

        /** GPU storage of the big matrices: stored (as in the checkpoint), bf16, int8 or int4. */
        @WithDefault("stored")
        String gpuWeightFormat();
    }

    interface Kafka {
        /** KAFKA_BOOTSTRAP_SERVERS; empty → an embedded single-node KRaft broker is started. */
        @WithName("external-bootstrap-servers")
        Optional<String> externalBootstrapServers();

        /** Consumer group of the request topic; the requests channel's group.id is set from it. */
        @WithDefault("herd")
        String groupId();

        Embedded embedded();

        Topics topics();

        Outage outage();

        /**
         * On a clean shutdown, remove this static member from the group so its partitions move at once (new pods
         * come under new names); false keeps them waiting for a restart under the same group.instance.id.
         */
        @WithDefault("true")
        boolean leaveGroupOnShutdown();

        /** How long the brokers may leave every write unacknowledged before the pod says so. */
        interface Outage {
            /** Readiness turns false past this (the producers keep every write meanwhile). */
            @WithDefault("PT30S")
            Duration unreadyAfter();

            /** Liveness turns false past this, so the pod restarts and its records go to other instances. */
            @WithDefault("PT6M")
            Duration notLiveAfter();
        }

        /** Topic names (kafka-topics/topics.json holds the same defaults). */
        interface Topics {
            @WithDefault("herd.requests")
            String requests();

            @WithDefault("herd.responses")
            String responses();

            @WithDefault("herd.control")
            String control();

            @WithDefault("herd.requests.dlq")
            String dlq();

            @WithDefault("herd.attempts")
            String attempts();
        }

        interface Embedded {
            /** Client port of the embedded broker (the default bootstrap is localhost:this). */
            @WithDefault("9092")
            int port();

            /** Partitions per topic for the embedded broker; empty → as in kafka-topics/topics.json. */
            Optional<Integer> partitions();
        }
    }

    interface Serving {
        /** Requests admitted and not finished; beyond it consumption pauses. */
        @WithDefault("256")
        int maxInFlight();

        /** Largest max_tokens a request may ask for. */
        @WithDefault("4096")
        int maxTokensLimit();

        /** max_tokens when a request has none (capped by the remaining context). */
        @WithDefault("256")
        int defaultMaxTokens();

        /** Longest a token waits to be sent when deltas are batched under load. */
        @WithDefault("PT0.02S")
        Duration maxDeltaLatency();

        /** Unacknowledged deltas per stream before tokens start sharing deltas. */
        @WithDefault("1")
        int maxUnackedDeltas();

        @WithDefault("16")
        int maxStopStrings();

        /** Pause before re-offering a request when the engine's queue is full. */
        @WithDefault("PT0.005S")
        Duration submitRetry();
    }

    /** The OpenAI-compatible HTTP edge ({@code /v1/*}). */
    interface Http {
        /** Bearer tokens, comma-separated, any of which {@code /v1/*} accepts; empty → no key needed. */
        Optional<String> apiKeys();

        /**
         * HTTP requests waiting for admission (beyond those admitted); past it a request gets 429 with Retry-After.
         * A client should see "busy" in about a second, not sit in a line that may take minutes.
         */
        @WithDefault("64")
        int maxQueue();

        /**
         * Fraction of max-in-flight HTTP requests may hold (at least one slot), so the rest always stays for Kafka
         * records; 1 lets HTTP take every slot.
         */
        @WithDefault("0.5")
        double admissionShare();

        /** Largest request body; larger gets 413. The requests topic's record limit is the same 4 MiB. */
        @WithDefault("4194304")
        long maxBodyBytes();
    }

    interface Shutdown {
        /** How long in-flight requests may take to finish on shutdown before they are left uncommitted. */
        @WithDefault("PT20S")
        Duration grace();
    }
}
