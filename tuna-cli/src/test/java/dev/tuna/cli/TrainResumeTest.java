package dev.tuna.cli;

import static dev.tuna.cli.DescribeCommandTest.tuna;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuna.cli.DescribeCommandTest.Run;
import dev.tuna.model.weights.SafetensorsReader;
import dev.tuna.model.weights.Tensor;
import dev.tuna.model.weights.WeightFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real {@code tuna train} process (SIGKILL) in the middle of an epoch, resumes it with
 * {@code --resume}, and checks that the model ends as an uninterrupted run's. Both runs use one libtorch
 * thread, so their numbers are reproducible.
 */
class TrainResumeTest {
    private static final int KILL_AFTER_EPOCHS = 2; // the frozen epoch and the first unfrozen one

    @TempDir
    Path dir;

    private static void image(Path file, int base, Random random) throws IOException {
        BufferedImage image = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 40; x++) {
                image.setRGB(x, y, base + random.nextInt(64) * 0x010101);
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
    }

    private List<String> trainArgs(Path out) {
        return List.of("train", dir.resolve("data").toString(), "--arch", "mobilenet_v2", "--weights", "none",
                "--epochs", "3", "--size", "32", "--bs", "8", "--threads", "1", "--out", out.toString());
    }

    /** Starts {@code tuna} in a new JVM with this test's class path and engine settings. */
    private Process start(List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Djava.awt.headless=true", "-Dai.djl.offline=true", "-cp",
                System.getProperty("java.class.path"), TunaCommand.class.getName()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = builder.environment(); // inherits surefire's (engine cache, jemalloc...)
        env.putIfAbsent("OPT_OUT_TRACKING", "true");
        env.putIfAbsent("TORCH_CPP_LOG_LEVEL", "ERROR");
        return builder.start();
    }

    private int finish(Process process, Path log) throws Exception {
        assertThat(process.waitFor(90, TimeUnit.SECONDS)).as("tuna finished in time").isTrue();
        int code = process.exitValue();
        assertThat(code).as(Files.readString(log)).isZero();
        return code;
    }

    private static int epochsInCheckpoint(Path manifest) {
        try {
            return JsonParser.parseString(Files.readString(manifest, StandardCharsets.UTF_8)).getAsJsonObject()
                    .getAsJsonArray("history").size();
        } catch (IOException | RuntimeException e) {
            return -1; // not there yet (it appears by an atomic rename, so never half-written)
        }
    }

    @Test
    void aKilledRunResumesAndEndsLikeAnUninterruptedOne() throws Exception {
        Random random = new Random(3);
        for (int i = 0; i < 40; i++) {
            image(dir.resolve("data/red/" + i + ".png"), 0xB00000, random);
            image(dir.resolve("data/blue/" + i + ".png"), 0x0000B0, random);
        }
        Path reference = dir.resolve("reference.tuna");
        Path referenceLog = dir.resolve("reference.log");
        finish(start(trainArgs(reference), referenceLog), referenceLog);
        assertThat(Files.readString(referenceLog)).contains("Model: ");
        assertThat(dir.resolve("reference.tuna.checkpoint")).doesNotExist(); // removed once the model is written

        Path model = dir.resolve("model.tuna");
        Path checkpoint = dir.resolve("model.tuna.checkpoint");
        Path killedLog = dir.resolve("killed.log");
        Process killed = start(trainArgs(model), killedLog);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (epochsInCheckpoint(checkpoint.resolve("checkpoint.json")) < KILL_AFTER_EPOCHS) {
            assertThat(killed.isAlive()).as(Files.readString(killedLog)).isTrue();
            assertThat(System.nanoTime()).as("checkpoint after epoch %d", KILL_AFTER_EPOCHS).isLessThan(deadline);
            Thread.sleep(20);
        }
        Thread.sleep(300); // into the next epoch (about 1 s long)
        assertThat(killed.isAlive()).as("still training when killed").isTrue();
        killed.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
        assertThat(killed.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(killed.exitValue()).isEqualTo(137);
        assertThat(model).doesNotExist();
        int saved = epochsInCheckpoint(checkpoint.resolve("checkpoint.json"));
        assertThat(saved).isBetween(KILL_AFTER_EPOCHS, KILL_AFTER_EPOCHS + 1);

        Run again = tuna(trainArgs(model).toArray(String[]::new));
        assertThat(again.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(again.err()).contains("checkpoint of an unfinished run", "--resume", "--force");
        List<String> other = new ArrayList<>(trainArgs(model));
        other.set(other.indexOf("3"), "4");
        other.add("--resume");
        Run mismatch = tuna(other.toArray(String[]::new));
        assertThat(mismatch.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(mismatch.err()).contains("from a different run", "epochs: checkpoint 3, now 4");

        List<String> resume = new ArrayList<>(trainArgs(model));
        resume.add("--resume");
        Path resumedLog = dir.resolve("resumed.log");
        finish(start(resume, resumedLog), resumedLog);
        assertThat(Files.readString(resumedLog)).contains("Resuming from " + checkpoint + ": " + saved + " of 4 epochs");
        assertThat(checkpoint).doesNotExist();

        JsonArray expected = history(reference);
        JsonArray actual = history(model);
        assertThat(actual).hasSize(4).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            JsonObject e = expected.get(i).getAsJsonObject();
            JsonObject a = actual.get(i).getAsJsonObject();
            assertThat(a.get("phase").getAsString()).isEqualTo(e.get("phase").getAsString());
            for (String metric : List.of("trainLoss", "validLoss", "errorRate")) {
                assertThat(a.get(metric).getAsDouble()).as("%s of epoch %d", metric, i)
                        .isEqualTo(e.get(metric).getAsDouble());
            }
        }
        WeightFile expectedWeights = SafetensorsReader.read(reference.resolve("weights.safetensors"));
        WeightFile actualWeights = SafetensorsReader.read(model.resolve("weights.safetensors"));
        assertThat(actualWeights.tensors().keySet()).isEqualTo(expectedWeights.tensors().keySet());
        // bit-for-bit, as README says of a resumed run with the same thread count: the same bytes
        for (Map.Entry<String, Tensor> entry : expectedWeights.tensors().entrySet()) {
            assertThat(actualWeights.tensors().get(entry.getKey())).as(entry.getKey()).isEqualTo(entry.getValue());
        }
    }

    private static JsonArray history(Path artifact) throws IOException {
        return JsonParser.parseString(Files.readString(artifact.resolve("model.json"))).getAsJsonObject()
                .getAsJsonObject("training").getAsJsonArray("history");
    }
}
