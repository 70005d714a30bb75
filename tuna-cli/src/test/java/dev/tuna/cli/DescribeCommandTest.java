package dev.tuna.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DescribeCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static Run tuna(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TunaCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    private void image(String path, int rgb) throws IOException {
        BufferedImage image = new BufferedImage(20, 12, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 12; y++) {
            for (int x = 0; x < 20; x++) {
                image.setRGB(x, y, rgb + x);
            }
        }
        Path file = dir.resolve(path);
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
    }

    @Test
    void describesAFolderAndWritesTheGridWithoutOverwriting() throws IOException {
        for (int i = 0; i < 5; i++) {
            image("data/cat/" + i + ".png", 0x101010 * i);
            image("data/dog/" + i + ".png", 0x800000 + i);
        }
        Files.write(dir.resolve("data/dog/broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0});
        Path grid = dir.resolve("grid.png");
        Files.writeString(grid, "precious");
        Run run = tuna("describe", dir.resolve("data").toString(), "--grid", grid.toString(), "--size", "32");
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("cat", "dog", "all (2 classes)", "unreadable files skipped: 1", "broken.jpg");
        assertThat(Files.readString(grid)).isEqualTo("precious");
        Path written = dir.resolve("grid-2.png");
        assertThat(run.out()).contains("Sample batch: " + written.toAbsolutePath());
        assertThat(ImageIO.read(written.toFile())).isNotNull();
    }

    @Test
    void badInputGivesAMessageAndExitCodeNotAStackTrace() throws IOException {
        Run missing = tuna("describe", dir.resolve("nope").toString());
        assertThat(missing.code()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(missing.err()).startsWith("tuna: Folder not found: ").doesNotContain("\tat ");
        Files.createDirectories(dir.resolve("empty"));
        Run empty = tuna("describe", dir.resolve("empty").toString());
        assertThat(empty.code()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(empty.err()).contains("No images found");
        Run flag = tuna("describe", "--sizee", "3", dir.toString());
        assertThat(flag.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(flag.err()).contains("Unknown option", "'--sizee'").contains("--help");
        Run resize = tuna("describe", "--resize", "stretch", dir.toString());
        assertThat(resize.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(resize.err()).contains("expected one of squish, crop, pad");
        Run size = tuna("describe", "--size", "2", dir.toString());
        assertThat(size.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(size.err()).contains("between 8 and 4096");
    }

    @Test
    void everyCommandHasHelpWithAnExample() {
        Run help = tuna("describe", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("Example:", "--valid-pct", "--grid");
        assertThat(tuna("--help").out()).contains("describe");
    }
}
