package dev.tuna.learn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tuna.ProgressListener;
import dev.tuna.data.DataLoaders;
import dev.tuna.inference.Predictions;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.Splitter;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import dev.tuna.testing.Datasets;
import dev.tuna.transform.ResizeMethod;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The whole path learns: MobileNetV2 with the ImageNet weights from ../shared, fine-tuned on 150
 * flowers per class at 160 px (batches of 16) for one frozen and two unfrozen epochs, must clearly beat chance (20%) on the withheld test set.
 */
@Tag("slow")
class FineTuneFlowersTest {
    @Test
    void mobilenetLearnsFlowersFromASmallSubset() {
        Path flowers = Datasets.sharedFlowers();
        Path test = Datasets.sharedFlowersTest();
        Path shared = Datasets.shared("pretrained/mobilenet_v2");
        Assumptions.assumeTrue(flowers != null && test != null && shared != null, "../shared data not present");
        PretrainedWeights weights = PretrainedWeights.MOBILENET_V2_TFLITE;
        long start = System.nanoTime();
        try (DataLoaders data = ImageFolder.from(flowers).limitPerClass(150).split(Splitter.random(0.2, 42))
                .resize(160, ResizeMethod.SQUISH).normalize(weights.normalization()).batchSize(16).dataloaders();
             Learner learner = Learner.builder(data).weights(weights)
                     .catalog(WeightCatalog.at(shared.getParent().getParent(), ProgressListener.NONE)).build()) {
            learner.fineTune(2);
            Predictions predictions = learner.evaluate(test);
            System.out.println(predictions.accuracyLine("Test"));
            System.out.println(predictions.confusionTable());
            System.out.printf("took %.0f s%n", (System.nanoTime() - start) / 1e9);
            assertThat(learner.history()).hasSize(3);
            assertThat(predictions.total()).isEqualTo(250);
            assertThat(predictions.accuracy()).isGreaterThanOrEqualTo(0.80);
        }
    }
}
