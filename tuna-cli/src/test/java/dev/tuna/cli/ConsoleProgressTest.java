package dev.tuna.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {
    /** Decoding again at a new size (progressive resizing) is timed from its own start, not the first one's. */
    @Test
    void aTaskRunAgainIsTimedFromItsOwnStart() throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgress progress = new ConsoleProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        for (int i = 1; i <= 4; i++) {
            progress.update("decode", i, 4);
        }
        Thread.sleep(1_600); // training in between
        for (int i = 1; i <= 4; i++) {
            progress.update("decode", i, 4);
        }
        progress.update("predict", 2, 2);
        assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).hasSize(3)
                .allSatisfy(line -> assertThat(line).contains(" in 00:00 ("))
                .first().asString().startsWith("decode: 4/4");
    }
}
