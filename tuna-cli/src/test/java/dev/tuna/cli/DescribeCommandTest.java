package dev.tuna.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tuna.data.ImageFormat;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
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

    /** A PNG that declares {@code width × height} pixels and holds no pixel data. */
    private static byte[] pngHeaderOnly(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(21).putInt(13).put("IHDR".getBytes(StandardCharsets.US_ASCII))
                .putInt(width).putInt(height).put(new byte[] {8, 2, 0, 0, 0});
        CRC32 crc = new CRC32();
        crc.update(ihdr.array(), 4, 17);
        ByteBuffer png = ByteBuffer.allocate(8 + 21 + 4 + 12);
        png.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}).put(ihdr.array())
                .putInt((int) crc.getValue()).putInt(0).put("IEND".getBytes(StandardCharsets.US_ASCII))
                .putInt(0xAE426082);
        return png.array();
    }

    @Test
    void describeListsSkippedFilesByReasonLabelConflictsAndSmallClasses() throws IOException {
        Path data = dir.resolve("data");
        for (int i = 0; i < 8; i++) {
            image("data/cat/" + i + ".png", 0x101010 * i);
            image("data/dog/" + i + ".png", 0x800000 + 0x100 * i);
        }
        image("data/crème brûlée/photo 1.png", 0x00AA00);
        Files.copy(data.resolve("cat/3.png"), data.resolve("dog/copy of 3.png")); // a label conflict
        byte[] png = Files.readAllBytes(data.resolve("cat/0.png"));
        Files.write(data.resolve("cat/zero.jpg"), new byte[0]);
        Files.write(data.resolve("cat/cut.png"), Arrays.copyOf(png, png.length / 2));
        for (int i = 0; i < 4; i++) {
            byte[] random = new byte[300];
            new Random(i).nextBytes(random);
            random[0] = 'x';
            Files.write(data.resolve("dog/random" + i + ".jpg"), random);
        }
        Files.writeString(data.resolve("dog/notes.png"), "not a picture");
        Files.write(data.resolve("dog/bomb.png"), pngHeaderOnly(20_000, 20_000));
        Files.write(data.resolve(".DS_Store"), new byte[] {0, 0, 0, 1});
        Files.createDirectories(data.resolve("__MACOSX/cat"));
        Files.write(data.resolve("__MACOSX/cat/._0.png"), new byte[] {0, 5, 22, 7});
        Files.write(data.resolve("cat/.hidden.png"), png);
        Files.createSymbolicLink(data.resolve("cat/gone.jpg"), dir.resolve("nowhere.jpg"));
        Files.createSymbolicLink(data.resolve("cat/loop"), data.resolve("cat"));
        Files.createDirectories(data.resolve("empty"));

        Run run = tuna("describe", data.toString(), "--grid", dir.resolve("grid.png").toString(), "--size", "16",
                "--list", "2");

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out() + run.err()).doesNotContain("\tat ", "Exception");
        assertThat(run.out()).contains(
                "unreadable files skipped: 9\n",
                "    5 files: not an image: content is not " + ImageFormat.NAMES + "\n"
                        + "      dog/notes.png\n      dog/random0.jpg\n      ... and 3 more\n",
                "    1 file: empty file (0 bytes)\n      cat/zero.jpg\n",
                "    1 file: broken symbolic link (its target does not exist)\n      cat/gone.jpg\n",
                "    1 file: image too large: 20000x20000 = 400,000,000 pixels exceeds the limit of 100,000,000"
                        + " (possible decompression bomb)\n      dog/bomb.png\n",
                "    1 file: truncated PNG file (it ends without the PNG end marker)\n      cat/cut.png\n",
                "other files ignored: 4\n",
                "    2 files: hidden file\n      .DS_Store\n      cat/.hidden.png\n",
                "    1 file: macOS archive metadata folder\n      __MACOSX\n",
                "    1 file: symbolic link loop (already visited)\n      cat/loop\n",
                "  label conflicts (the same image in two classes): 1\n    cat/3.png and dog/copy of 3.png\n",
                "warning: class 'crème brûlée' has only 1 usable image",
                "warning: class folder 'empty' has no usable images; it is left out");
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
