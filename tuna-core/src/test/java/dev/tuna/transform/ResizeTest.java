package dev.tuna.transform;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ResizeTest {
    private static RgbImage checkerboard(int width, int height) {
        byte[] pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                byte v = (byte) (((x + y) & 1) == 0 ? 255 : 0);
                int i = (y * width + x) * 3;
                pixels[i] = v;
                pixels[i + 1] = v;
                pixels[i + 2] = v;
            }
        }
        return new RgbImage(width, height, pixels);
    }

    private static RgbImage constant(int width, int height, int value) {
        byte[] pixels = new byte[width * height * 3];
        java.util.Arrays.fill(pixels, (byte) value);
        return new RgbImage(width, height, pixels);
    }

    @Test
    void squishCropAndPadProduceTheDocumentedSizes() {
        RgbImage wide = constant(300, 200, 10);
        assertThat(Resize.presize(wide, 192, ResizeMethod.SQUISH, PadMode.ZEROS))
                .extracting(RgbImage::width, RgbImage::height).containsExactly(192, 192);
        assertThat(Resize.presize(wide, 192, ResizeMethod.CROP, PadMode.ZEROS))
                .extracting(RgbImage::width, RgbImage::height).containsExactly(288, 192);
        RgbImage tall = constant(100, 400, 10);
        assertThat(Resize.presize(tall, 64, ResizeMethod.CROP, PadMode.ZEROS))
                .extracting(RgbImage::width, RgbImage::height).containsExactly(64, 256);
        assertThat(Resize.presize(tall, 64, ResizeMethod.PAD, PadMode.ZEROS))
                .extracting(RgbImage::width, RgbImage::height).containsExactly(64, 64);
        assertThat(Resize.presize(constant(1, 1, 7), 32, ResizeMethod.SQUISH, PadMode.ZEROS).value(31, 31, 2))
                .isEqualTo(7);
    }

    @Test
    void downscalingAveragesInsteadOfAliasing() {
        RgbImage small = Resize.to(checkerboard(256, 256), 32, 32);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                assertThat(small.value(x, y, 0)).as("pixel %d,%d", x, y).isBetween(120, 135);
            }
        }
    }

    @Test
    void constantImagesStayConstantAtAnyScale() {
        for (int[] size : new int[][] {{7, 5}, {192, 192}, {500, 333}, {3, 900}}) {
            RgbImage out = Resize.to(constant(320, 240, 200), size[0], size[1]);
            for (byte b : out.pixels()) {
                assertThat(b & 0xFF).isEqualTo(200);
            }
        }
    }

    @Test
    void upscalingInterpolatesLinearly() {
        byte[] two = {0, 0, 0, (byte) 200, (byte) 200, (byte) 200};
        RgbImage out = Resize.to(new RgbImage(2, 1, two), 4, 1);
        assertThat(new int[] {out.value(0, 0, 0), out.value(1, 0, 0), out.value(2, 0, 0), out.value(3, 0, 0)})
                .containsExactly(0, 50, 150, 200);
    }

    @Test
    void padCentresAndFillsWithZerosOrReflection() {
        byte[] pixels = new byte[4 * 2 * 3];
        for (int i = 0; i < 8; i++) {
            pixels[i * 3] = (byte) (10 * (i + 1)); // red ramp row-major: row0 10..40, row1 50..80
        }
        RgbImage image = new RgbImage(4, 2, pixels);
        RgbImage zeros = Resize.pad(image, 4, PadMode.ZEROS);
        assertThat(zeros.value(0, 0, 0)).isZero();
        assertThat(zeros.value(0, 1, 0)).isEqualTo(10);
        assertThat(zeros.value(3, 2, 0)).isEqualTo(80);
        assertThat(zeros.value(3, 3, 0)).isZero();
        RgbImage mirrored = Resize.pad(image, 4, PadMode.REFLECTION);
        assertThat(mirrored.value(0, 0, 0)).isEqualTo(50); // row above row 0 mirrors row 1
        assertThat(mirrored.value(0, 3, 0)).isEqualTo(10); // row below row 1 mirrors row 0
        assertThat(Resize.reflect(-1, 5)).isEqualTo(1);
        assertThat(Resize.reflect(5, 5)).isEqualTo(3);
    }

    @Test
    void cropCutsTheRequestedSquare() {
        RgbImage wide = Resize.to(checkerboard(6, 3), 6, 3);
        RgbImage square = Resize.crop(wide, 2, 0, 3);
        assertThat(square.width()).isEqualTo(3);
        assertThat(square.value(0, 0, 0)).isEqualTo(wide.value(2, 0, 0));
        assertThat(square.value(2, 2, 0)).isEqualTo(wide.value(4, 2, 0));
    }
}
