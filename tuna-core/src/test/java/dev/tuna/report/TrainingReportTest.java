package dev.tuna.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tuna.inference.Predictions;
import dev.tuna.learn.BatchRecord;
import dev.tuna.learn.EpochRecord;
import dev.tuna.testing.Images;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingReportTest {
    @TempDir
    Path dir;

    @Test
    void pageIsSelfContainedWithEverySectionAndDecodableImages() throws Exception {
        Path a = Images.write(dir.resolve("a.png"), Images.encode(Images.solid(20, 10, 0xFF0000), "png"));
        Path b = Images.write(dir.resolve("b.png"), Images.encode(Images.solid(20, 10, 0x00FF00), "png"));
        Predictions predictions = new Predictions(List.of("cat", "dog"), List.of(a, b),
                new float[][] {{0.9f, 0.1f}, {0.7f, 0.3f}}, new int[] {0, 1}, new int[] {0, 0}, new float[] {0.1f, 1.2f});
        List<BatchRecord> steps = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            steps.add(new BatchRecord(i, 1.0 / (i + 1), 1.0 / (i + 1), 1e-3 * i, 0.9));
        }
        String html = new TrainingReport("Report <test>")
                .setting("architecture", "resnet18")
                .dataset(null, new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB))
                .training(List.of(new EpochRecord(0, dev.tuna.learn.Phase.FROZEN, 0.5, 0.4, 0.5, 1.0, 10)), steps)
                .test("Test", predictions)
                .html();
        assertThat(html).contains("Test accuracy: 50.00% (1/2)", "Report &lt;test&gt;", "Run settings", "Sample batch",
                "alt=\"confusion matrix\"", "Most confused", "Top losses", "data-images-ok").doesNotContain("src=\"file:", "http");
        Matcher images = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        int count = 0;
        while (images.find()) {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(images.group(1))));
            assertThat(image).isNotNull();
            count++;
        }
        assertThat(count).isEqualTo(5); // sample batch, loss, learning rate, confusion matrix, top losses
        Path file = new TrainingReport("t").test("Test", predictions).write(dir.resolve("out/report.html"));
        assertThat(Files.readString(file)).contains("Test accuracy");
        assertThat(Files.getPosixFilePermissions(file)).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
    }
}
