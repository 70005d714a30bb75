package dev.tuna.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tuna train --features}: what it refuses before reading anything (the whole path, from Spark's
 * Parquet to a model, is tested in tuna-spark's TunaSparkTest).
 */
class TrainFeaturesOptionsTest {
    @TempDir
    Path dir;

    @Test
    void needsAFolderOrFeaturesButNotBoth() {
        DescribeCommandTest.Run none = DescribeCommandTest.tuna("train");
        assertThat(none.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(none.err()).contains("Give the training <folder>, or --features <parquet>.");
        DescribeCommandTest.Run both = DescribeCommandTest.tuna("train", dir.toString(), "--features", dir.toString());
        assertThat(both.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(both.err()).contains("not both");
    }

    @Test
    void refusesOptionsAboutImagesOrTheBodyByName() {
        DescribeCommandTest.Run run = DescribeCommandTest.tuna("train", "--features", dir.toString(), "--size", "224");
        assertThat(run.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(run.err()).contains("--size does not apply to --features", "--valid-pct");
    }

    @Test
    void aFolderWithoutParquetOrBaseModelIsRefusedWithTheReason() throws IOException {
        DescribeCommandTest.Run noBase = DescribeCommandTest.tuna("train", "--features", dir.toString());
        assertThat(noBase.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(noBase.err()).contains("No base model at", "--body <model.tuna>");
        Path base = Files.createDirectories(dir.resolve(FeatureParquet.MODEL_FOLDER));
        Files.writeString(base.resolve("model.json"), "{}");
        DescribeCommandTest.Run noParquet = DescribeCommandTest.tuna("train", "--features", dir.toString(),
                "--out", dir.resolve("m.tuna").toString());
        assertThat(noParquet.code()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(noParquet.err()).contains("No .parquet files in");
        Files.writeString(dir.resolve("part-0.parquet"), "not parquet");
        DescribeCommandTest.Run bad = DescribeCommandTest.tuna("train", "--features", dir.toString(),
                "--out", dir.resolve("m.tuna").toString());
        assertThat(bad.code()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(bad.err()).contains("Could not read the feature rows in", "part-0.parquet");
    }
}
