package dev.tuna.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import dev.tuna.transform.Normalization;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads are tested against a local HTTP server on 127.0.0.1, never the internet. */
class WeightCatalogTest {
    private static final byte[] CONTENT = "pretend these are weights".getBytes(StandardCharsets.UTF_8);
    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();

    @TempDir
    Path home;

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/w.pth", exchange -> {
            requests.incrementAndGet();
            exchange.sendResponseHeaders(200, CONTENT.length);
            exchange.getResponseBody().write(CONTENT);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private PretrainedWeights entry(String sha) {
        return new PretrainedWeights("test", Architecture.RESNET18, "w.pth",
                Optional.of("http://127.0.0.1:" + server.getAddress().getPort() + "/w.pth"), sha,
                Normalization.IMAGENET, false, false, "test weights");
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void downloadsVerifiesAndCachesAtomically() throws Exception {
        AtomicInteger progressCalls = new AtomicInteger();
        WeightCatalog catalog = WeightCatalog.at(home, (task, done, total) -> progressCalls.incrementAndGet());
        Path file = catalog.resolve(entry(sha256(CONTENT)));
        assertThat(file).isEqualTo(home.resolve("weights/w.pth"));
        assertThat(Files.readAllBytes(file)).isEqualTo(CONTENT);
        assertThat(progressCalls.get()).isPositive();
        server.stop(0); // the second time comes from the cache
        assertThat(catalog.resolve(entry(sha256(CONTENT).substring(0, 8)))).isEqualTo(file);
        assertThat(requests.get()).isEqualTo(1);
    }

    @Test
    void aChecksumMismatchIsRejectedAndNothingIsKept() throws Exception {
        WeightCatalog catalog = WeightCatalog.at(home, ProgressListener.NONE);
        assertThatThrownBy(() -> catalog.resolve(entry("0123456789abcdef")))
                .isInstanceOf(TunaException.class)
                .hasMessageContaining("has SHA-256 " + sha256(CONTENT))
                .hasMessageContaining("expected 0123456789abcdef")
                .hasMessageContaining("discarded");
        try (var files = Files.list(home.resolve("weights"))) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void aDamagedCachedFileIsReportedNotUsed() throws Exception {
        Files.createDirectories(home.resolve("weights"));
        Files.writeString(home.resolve("weights/w.pth"), "damaged");
        assertThatThrownBy(() -> WeightCatalog.at(home, ProgressListener.NONE).resolve(entry(sha256(CONTENT))))
                .hasMessageContaining("The cached weights").hasMessageContaining("delete it to download it again");
    }

    @Test
    void offlineFailureSaysWhichFileToPutWhere() {
        server.stop(0);
        PretrainedWeights unreachable = new PretrainedWeights("test", Architecture.RESNET18, "w.pth",
                Optional.of("http://127.0.0.1:9/w.pth"), "deadbeef", Normalization.IMAGENET, false, false, "t");
        assertThatThrownBy(() -> WeightCatalog.at(home, ProgressListener.NONE).resolve(unreachable))
                .hasMessageContaining("Could not download the weights 'test' from http://127.0.0.1:9/w.pth")
                .hasMessageContaining("put it at " + home.resolve("weights/w.pth"));
        assertThatThrownBy(() -> WeightCatalog.at(home, ProgressListener.NONE)
                .resolve(PretrainedWeights.MOBILENET_V2_TFLITE))
                .hasMessageContaining("cannot be downloaded")
                .hasMessageContaining(home.resolve("weights/mobilenet_v2_1.0_224_quant.tv.safetensors").toString());
    }

    @Test
    void catalogueNamesResolve() {
        assertThat(PretrainedWeights.named("resnet18").url()).contains("https://download.pytorch.org/models/resnet18-f37072fd.pth");
        assertThat(PretrainedWeights.defaultFor(Architecture.MOBILENET_V2)).isEqualTo(PretrainedWeights.MOBILENET_V2);
        assertThatThrownBy(() -> PretrainedWeights.named("vgg")).hasMessageContaining("mobilenet_v2_tflite");
    }
}
