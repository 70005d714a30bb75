package dev.tuna.cli;

import dev.tuna.inference.ArtifactMetadata;
import dev.tuna.serve.ModelSpec;
import dev.tuna.serve.PredictionServer;
import dev.tuna.serve.ServeOptions;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tuna serve}: an HTTP prediction server for one or more models. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {"Serve models over HTTP (the TorchServe / DJL Serving inference API): GET /ping, GET /models,",
                "POST /predictions/<name>[?top_k=k] with the image as the body or a multipart file, GET /metrics",
                "(Prometheus). Concurrent requests are batched dynamically; errors are JSON {\"error\", \"message\"}.",
                "Ctrl-C or SIGTERM stops it gracefully: requests in flight are answered first."},
        footer = {"", "Examples:", "  tuna serve flowers-mobilenet_v2.tuna --port 8080",
                "  curl --data-binary @rose.jpg 'localhost:8080/predictions/flowers-mobilenet_v2?top_k=3'",
                "  curl -F data=@rose.jpg localhost:8080/predictions/flowers-mobilenet_v2",
                "  tuna serve flowers=models/v3.tuna pets=models/pets.tuna --batch-size 16 --max-delay 10ms"})
final class ServeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "<model|name=model>",
            description = "Model folders written by 'tuna train'; each is served as its folder name without .tuna,"
                    + " or as <name> with name=folder.")
    List<String> models;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 for all).")
    String host;

    @Option(names = "--port", defaultValue = "8080",
            description = "Port (default: ${DEFAULT-VALUE}; 0: any free port).")
    int port;

    @Option(names = "--batch-size", defaultValue = "8",
            description = "Most images per forward pass (default: ${DEFAULT-VALUE}; 1: no dynamic batching).")
    int batchSize;

    @Option(names = "--max-delay", defaultValue = "5ms", converter = DurationConverter.class,
            description = "Longest wait for a batch to fill once an image is waiting (default: ${DEFAULT-VALUE}).")
    Duration maxDelay;

    @Option(names = "--queue-size", defaultValue = "64",
            description = "Most images waiting per model; more get 503 queue_full at once (default: ${DEFAULT-VALUE}).")
    int queueSize;

    @Option(names = "--max-body", defaultValue = "16MB", converter = SizeConverter.class,
            description = "Largest request body; larger get 413 (default: ${DEFAULT-VALUE}; KB, MB: 1024-based).")
    long maxBody;

    @Option(names = "--timeout", defaultValue = "30s", converter = DurationConverter.class,
            description = "Longest time from a request's arrival to its answer; later gets 504 (default:"
                    + " ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--max-pixels", defaultValue = "100000000",
            description = "Largest image (width x height, read from its header) decoded; larger get 413"
                    + " too_many_pixels (default: ${DEFAULT-VALUE}).")
    long maxPixels;

    @Option(names = "--no-warm-up", description = "Skip running every batch size once at start (faster start, slower"
            + " first requests).")
    boolean noWarmUp;

    @Mixin
    EngineOptions engine;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        ServeOptions options = new ServeOptions(host, port, batchSize, maxDelay, queueSize, maxBody, timeout, maxPixels,
                !noWarmUp, engine.options(dev.tuna.inference.ClassifierOptions.DEFAULTS).threads());
        List<ModelSpec> specs = models.stream().map(ModelSpec::parse).toList();
        engine.apply();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("Loading " + specs.size() + (specs.size() == 1 ? " model" : " models")
                + (options.warmUp() ? " and running batch sizes 1-" + batchSize + " once" : "") + "...");
        out.flush();
        PredictionServer server = PredictionServer.start(specs, options);
        Thread stop = new Thread(() -> {
            err.println("Stopping: answering the requests in flight...");
            err.flush();
            server.close();
            err.println("Stopped.");
            err.flush();
        }, "tuna-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(stop);
        String base = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.port();
        out.println("Serving on " + base + String.format(Locale.ROOT,
                " (batches of up to %d within %d ms, %d waiting per model, %d s timeout). Ctrl-C stops.", batchSize,
                maxDelay.toMillis(), queueSize, timeout.toSeconds()));
        for (ModelSpec model : specs) {
            ArtifactMetadata meta = server.metadata(model.name());
            out.println(String.format(Locale.ROOT, "  POST %s/predictions/%s   %s, %d classes, %d px", base,
                    model.name(), meta.architecture().id(), meta.classes().size(), meta.inputSize()));
        }
        out.flush();
        server.awaitStop();
        return TunaCommand.OK;
    }

    /** Parses {@code 5ms}, {@code 0.5s}, {@code 30s}, {@code 2m} or {@code 0}. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        private static final Pattern FORMAT = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m)");

        @Override
        public Duration convert(String value) {
            String text = value.trim().toLowerCase(Locale.ROOT);
            if (text.equals("0")) {
                return Duration.ZERO;
            }
            Matcher m = FORMAT.matcher(text);
            if (!m.matches()) {
                throw new CommandLine.TypeConversionException("expected a duration with its unit, e.g. 5ms, 0.5s,"
                        + " 30s or 2m; found '" + value + "'");
            }
            double millis = Double.parseDouble(m.group(1)) * switch (m.group(2)) {
                case "ms" -> 1;
                case "s" -> 1000;
                default -> 60_000;
            };
            return Duration.ofNanos(Math.round(millis * 1e6));
        }
    }

    /** Parses {@code 16MB}, {@code 512KB}, {@code 1GB} (1024-based) or a number of bytes. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        private static final Pattern FORMAT = Pattern.compile("(\\d+)\\s*(b|kb|k|kib|mb|m|mib|gb|g|gib)?");

        @Override
        public Long convert(String value) {
            Matcher m = FORMAT.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new CommandLine.TypeConversionException("expected a size such as 16MB, 512KB or 1048576 (bytes);"
                        + " found '" + value + "'");
            }
            String unit = m.group(2) == null ? "b" : m.group(2);
            int shift = switch (unit.charAt(0)) {
                case 'k' -> 10;
                case 'm' -> 20;
                case 'g' -> 30;
                default -> 0;
            };
            try {
                return Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
            } catch (ArithmeticException | NumberFormatException e) {
                throw new CommandLine.TypeConversionException("size too large: '" + value + "'");
            }
        }
    }
}
