package dev.tuna.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tuna.testing.Datasets;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Checks on the real flowers data in ../shared/datasets, when it is there. */
class SharedFlowersTest {
    @Test
    void listsAndSplitsTheRealFlowersFolder() {
        Path flowers = Datasets.sharedFlowers();
        Assumptions.assumeTrue(flowers != null, "../shared/datasets/flowers not present");
        ImageList list = ImageFolder.from(flowers).scan();
        assertThat(list.classes()).containsExactly("daisy", "dandelion", "rose", "sunflower", "tulip");
        assertThat(list.items()).hasSize(4067);
        assertThat(list.countsPerClass()).containsEntry("daisy", 714).containsEntry("sunflower", 683);
        assertThat(list.unreadable()).isEmpty();
        Split split = Splitter.random(0.2, 42).split(list.items());
        assertThat(split.valid()).hasSize(813);
        assertThat(Splitter.random(0.2, 42).split(list.items())).isEqualTo(split);
    }
}
