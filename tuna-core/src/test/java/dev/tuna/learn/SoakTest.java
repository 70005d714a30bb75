package dev.tuna.learn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tuna.ProgressListener;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.Splitter;
import dev.tuna.internal.engine.ProcessMemory;
import dev.tuna.model.Architecture;
import dev.tuna.testing.Datasets;
import dev.tuna.transform.ResizeMethod;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ten epochs of full MobileNetV2 training (train + validation every epoch) with memory sampled at the
 * end of each: the bytes allocated natively (libtorch's tensors, read from jemalloc's statistics after
 * a collection has freed finished batches' direct buffers) must stay flat after warm-up, i.e. nothing
 * is kept from one batch or epoch to the next. Resident memory is printed too; it also moves with
 * the Java heap's first touches and the allocator's retained pages.
 */
@Tag("slow")
class SoakTest {
    @TempDir
    Path dir;

    @Test
    void nativeMemoryStaysFlatOverTenEpochs() {
        // decided before the work: where native memory cannot be measured, ten epochs would prove nothing
        Assumptions.assumeTrue(ProcessMemory.nativeAllocatedBytes() > 0,
                "jemalloc is not preloaded (apt-get install libjemalloc2): native allocations are not measurable");
        Path flowers = Datasets.sharedFlowers();
        ImageFolder folder = flowers != null ? ImageFolder.from(flowers).limitPerClass(24)
                : ImageFolder.from(Datasets.folder(dir.resolve("data"), Map.of("a", 60, "b", 60)));
        try (DataLoaders data = folder.split(Splitter.random(0.2, 42)).resize(96, ResizeMethod.SQUISH).batchSize(16)
                .progress(ProgressListener.NONE).dataloaders();
             Learner learner = Learner.builder(data).architecture(Architecture.MOBILENET_V2).weights(null)
                     .console(null, false).build()) {
            learner.unfreeze();
            List<Long> nativeBytes = new ArrayList<>();
            learner.addCallback(new Callback() {
                @Override
                public void onEpochEnd(Learner l, EpochRecord r) {
                    Runtime rt = Runtime.getRuntime();
                    System.gc(); // frees the direct buffers of finished batches, which wait for a collection
                    long allocated = ProcessMemory.nativeAllocatedBytes();
                    nativeBytes.add(allocated);
                    System.out.printf("epoch %d: RSS %.0f MB, native allocated %.1f MB, heap committed %.0f MB,"
                            + " used %.0f MB%n", r.epoch(), r.residentBytes() / 1e6, allocated / 1e6,
                            rt.totalMemory() / 1e6, (rt.totalMemory() - rt.freeMemory()) / 1e6);
                }
            });
            learner.fitOneCycle(10, LearningRates.slice(1e-4, 1e-3, Learner.GROUPS));
            List<EpochRecord> history = learner.history();
            assertThat(history).hasSize(10);
            assertThat(history.get(9).residentBytes()).isPositive();
            assertThat(nativeBytes).hasSize(10).allSatisfy(b -> assertThat(b).isPositive());
            double warm = (nativeBytes.get(2) + nativeBytes.get(3) + nativeBytes.get(4)) / 3.0;
            double late = (nativeBytes.get(7) + nativeBytes.get(8) + nativeBytes.get(9)) / 3.0;
            assertThat(late / warm).as("native memory, epochs 8-10 / epochs 3-5").isLessThan(1.05);
            assertThat(nativeBytes.subList(2, 10)).allSatisfy(b -> assertThat(b / warm).isLessThan(1.10));
        }
    }
}
