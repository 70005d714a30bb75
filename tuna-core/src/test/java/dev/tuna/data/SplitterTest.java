package dev.tuna.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SplitterTest {
    private static List<ImageItem> items(int perClass, String... classes) {
        List<ImageItem> items = new ArrayList<>();
        for (String c : classes) {
            for (int i = 0; i < perClass; i++) {
                String rel = c + "/" + String.format("%03d.jpg", i);
                items.add(new ImageItem(Path.of(rel), rel, c));
            }
        }
        return items;
    }

    @Test
    void randomSplitIsReproducibleAndSeedDependent() {
        List<ImageItem> items = items(50, "a", "b", "c");
        Split first = Splitter.random(0.2, 42).split(items);
        assertThat(Splitter.random(0.2, 42).split(items)).isEqualTo(first);
        assertThat(Splitter.random(0.2, 43).split(items).valid()).isNotEqualTo(first.valid());
        // Pinned: SplittableRandom's algorithm is fixed by the Java specification, so this split
        // is the same on every JVM and OS; a change here would silently change users' splits.
        assertThat(Arrays.copyOf(first.valid(), 5)).containsExactly(123, 0, 50, 48, 133);
    }

    @Test
    void randomSplitTakesFloorOfFractionAndCoversEverythingOnce() {
        List<ImageItem> items = items(4067, "x");
        Split split = Splitter.random(0.2, 42).split(items);
        assertThat(split.valid()).hasSize(813);
        assertThat(split.train()).hasSize(4067 - 813);
        int[] all = IntStream.concat(Arrays.stream(split.train()), Arrays.stream(split.valid())).sorted().toArray();
        assertThat(all).containsExactly(IntStream.range(0, 4067).toArray());
    }

    @Test
    void rejectsFractionsOutsideZeroToOne() {
        assertThatThrownBy(() -> Splitter.random(1.0, 1)).hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> Splitter.random(-0.1, 1)).hasMessageContaining("e.g. 0.2");
    }

    @Test
    void byFolderUsesTheFirstPathComponent() {
        List<ImageItem> items = List.of(
                new ImageItem(Path.of("1"), "train/cat/1.jpg", "cat"),
                new ImageItem(Path.of("2"), "valid/cat/2.jpg", "cat"),
                new ImageItem(Path.of("3"), "train/dog/3.jpg", "dog"),
                new ImageItem(Path.of("4"), "test/dog/4.jpg", "dog"));
        Split split = Splitter.byFolder("train", "valid").split(items);
        assertThat(split.train()).containsExactly(0, 2);
        assertThat(split.valid()).containsExactly(1);
        assertThatThrownBy(() -> Splitter.byFolder("train", "val").split(items))
                .hasMessageContaining("found 2 and 0");
    }

    @Test
    void firstPerClassHoldsOutTheFirstNamesOfEachClass() {
        Split split = Splitter.firstPerClass(2).split(items(4, "a", "b"));
        assertThat(split.valid()).containsExactly(0, 1, 4, 5);
        assertThat(split.train()).containsExactly(2, 3, 6, 7);
    }
}
