package dev.tuna.cli;

import static dev.tuna.cli.DescribeCommandTest.tuna;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tuna.cli.DescribeCommandTest.Run;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code tuna serve}'s arguments; the server itself is tested in tuna-serve. */
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void helpListsTheApiAndTheFlags() {
        Run run = tuna("serve", "--help");
        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("POST /predictions/<name>", "--batch-size", "--max-delay", "--queue-size",
                "--max-body", "--timeout", "--port");
    }

    @Test
    void badOptionsAreUsageErrorsAndAMissingModelIsBadInput() {
        Path missing = dir.resolve("missing.tuna");
        assertThat(tuna("serve", missing.toString(), "--batch-size", "0").code()).isEqualTo(TunaCommand.USAGE);
        Run delay = tuna("serve", missing.toString(), "--max-delay", "5");
        assertThat(delay.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(delay.err()).contains("5ms");
        assertThat(tuna("serve", "bad name=" + missing).err()).contains("name=path");
        Run run = tuna("serve", missing.toString(), "--port", "0");
        assertThat(run.code()).as(run.err()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(run.err()).contains("missing.tuna").doesNotContain("\tat ");
    }

    @Test
    void durationsAndSizesReadAsWritten() {
        ServeCommand.DurationConverter durations = new ServeCommand.DurationConverter();
        assertThat(durations.convert("5ms")).isEqualTo(Duration.ofMillis(5));
        assertThat(durations.convert("0.5s")).isEqualTo(Duration.ofMillis(500));
        assertThat(durations.convert("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(durations.convert("0")).isEqualTo(Duration.ZERO);
        assertThatThrownBy(() -> durations.convert("soon")).isInstanceOf(CommandLine.TypeConversionException.class);
        ServeCommand.SizeConverter sizes = new ServeCommand.SizeConverter();
        assertThat(sizes.convert("16MB")).isEqualTo(16L << 20);
        assertThat(sizes.convert("512kb")).isEqualTo(512L << 10);
        assertThat(sizes.convert("1000")).isEqualTo(1000L);
        assertThatThrownBy(() -> sizes.convert("lots")).isInstanceOf(CommandLine.TypeConversionException.class);
    }
}
