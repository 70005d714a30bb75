package dev.tuna.learn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.tuna.data.Batch;
import dev.tuna.data.BatchIterator;
import dev.tuna.data.DataLoader;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.Splitter;
import dev.tuna.internal.engine.Threads;
import dev.tuna.model.Architecture;
import dev.tuna.testing.Datasets;
import dev.tuna.transform.ResizeMethod;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Same seed, same data, one libtorch thread: the same split, batch order and epoch metrics. */
class DeterminismTest {
    @TempDir
    Path dir;

    private static DataLoaders loaders(Path root, long seed) {
        return ImageFolder.from(root).split(Splitter.random(0.2, seed)).seed(seed).flip(true)
                .resize(32, ResizeMethod.CROP).batchSize(4).dataloaders();
    }

    private static List<String> order(DataLoader loader, int epoch) {
        List<String> out = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager(); BatchIterator batches = loader.iterate(manager, epoch)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    // every pixel, not a hash of them: the claim is bit-for-bit
                    out.add(Arrays.toString(batch.items()) + Arrays.toString(batch.images().toFloatArray()));
                }
            }
        }
        return out;
    }

    private static EpochRecord firstEpoch(DataLoaders data) {
        try (Learner learner = Learner.builder(data).architecture(Architecture.MOBILENET_V2).weights(null)
                .console(null, false).build()) {
            learner.fitOneCycle(1, LearningRates.slice(1e-3, Learner.GROUPS));
            return learner.history().get(0);
        }
    }

    @Test
    void sameSeedSameDataAndOneThreadGiveTheSameSplitBatchesAndMetrics() {
        Path root = Datasets.folder(dir.resolve("data"), Map.of("a", 12, "b", 12));
        int threads = Threads.intraOp();
        Threads.configure(1, 1);
        try (DataLoaders first = loaders(root, 7); DataLoaders second = loaders(root, 7);
             DataLoaders otherSeed = loaders(root, 8)) {
            assertThat(second.train().items()).isEqualTo(first.train().items());
            assertThat(second.valid().items()).isEqualTo(first.valid().items());
            assertThat(otherSeed.valid().items()).isNotEqualTo(first.valid().items());

            // batch order and augmentation (crop position, flips): a function of seed and epoch only
            List<String> epoch0 = order(first.train(), 0);
            assertThat(order(second.train(), 0)).isEqualTo(epoch0);
            assertThat(order(first.train(), 0)).isEqualTo(epoch0);
            assertThat(order(first.train(), 1)).isNotEqualTo(epoch0);
            assertThat(order(first.valid(), 0)).isEqualTo(order(first.valid(), 5)); // validation: fixed order

            EpochRecord a = firstEpoch(first);
            EpochRecord b = firstEpoch(second); // same process, after other work: dropout is reseeded per epoch
            assertThat(b.trainLoss()).isEqualTo(a.trainLoss());
            assertThat(b.validLoss()).isEqualTo(a.validLoss());
            assertThat(b.errorRate()).isEqualTo(a.errorRate());
        } finally {
            Threads.configure(threads, 1);
        }
    }
}
