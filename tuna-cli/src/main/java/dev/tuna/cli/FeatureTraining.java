package dev.tuna.cli;

import dev.tuna.TunaException;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.Evaluation;
import dev.tuna.inference.Predictions;
import dev.tuna.learn.EpochRecord;
import dev.tuna.learn.FeatureHead;
import dev.tuna.ProgressListener;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code tuna train --features <parquet>}: fast.ai's head trained on body features computed elsewhere
 * (by {@code dev.tuna.spark.Featurize}), as {@link FeatureHead} does, then exported as a normal model.
 */
final class FeatureTraining {
    /** The options that mean something here; any other given option is refused, by name. */
    private static final Set<String> APPLY = Set.of("--features", "--body", "--epochs", "--lr", "--valid-pct",
            "--seed", "--bs", "--label-smoothing", "--out", "--force", "--test", "--threads", "--verbose", "--help");

    private final TrainCommand command;
    private final ParseResult parsed;

    FeatureTraining(TrainCommand command, ParseResult parsed) {
        this.command = command;
        this.parsed = parsed;
    }

    int run(PrintWriter console) {
        for (OptionSpec option : parsed.matchedOptions()) {
            if (!APPLY.contains(option.longestName())) {
                throw TunaException.usage(option.longestName() + " does not apply to --features: the body and the"
                        + " input size are the base model's, and only the head trains. Options that apply: "
                        + String.join(", ", APPLY.stream().sorted().toList()) + ".");
            }
        }
        Path base = command.body != null ? command.body : command.features.resolve(FeatureParquet.MODEL_FOLDER);
        if (!Files.isDirectory(base)) {
            throw TunaException.usage("No base model at " + base + "; give the model the features were computed"
                    + " with (Featurize's --model) as --body <model.tuna>.");
        }
        Path artifact = command.out != null ? command.out
                : Path.of(command.features.toAbsolutePath().normalize().getFileName() + "-head.tuna");
        if (Files.exists(artifact) && !command.force) {
            throw TunaException.usage("The model artifact " + artifact + " already exists; choose another --out or"
                    + " pass --force to replace it.");
        }
        if (command.lr.equalsIgnoreCase("auto")) {
            throw TunaException.usage("--lr auto needs images; with --features give a number (default 2e-3).");
        }
        double lr;
        try {
            lr = Double.parseDouble(command.lr);
        } catch (NumberFormatException e) {
            throw TunaException.usage("--lr must be a positive number (e.g. 2e-3); found '" + command.lr + "'.");
        }
        boolean epochsGiven = parsed.hasMatchedOption("--epochs");
        FeatureHead.Settings settings = FeatureHead.Settings.DEFAULTS
                .withEpochs(epochsGiven ? command.epochs : FeatureHead.Settings.DEFAULTS.epochs())
                .withValidPct(command.data.validPct).withSeed(command.data.seed).withBatchSize(command.data.batchSize)
                .withBaseLr(lr).withLabelSmoothing(command.labelSmoothing);
        command.engine.apply();
        FeatureParquet.Read read = FeatureParquet.read(command.features);
        console.printf(Locale.ROOT, "Training the head on %,d feature rows from %d Parquet file%s in %s%s%n",
                read.rows().size(), read.files(), read.files() == 1 ? "" : "s", command.features,
                read.errors() == 0 ? "" : " (" + read.errors() + " rows with an error left out)");
        console.println("Body: " + base);
        console.flush();
        long start = System.nanoTime();
        try (FeatureHead head = FeatureHead.train(base, read.rows(), settings)) {
            console.printf(Locale.ROOT, "%d classes, %d training rows, %d validation rows (%.0f%%, seed %d)%n",
                    head.classes().size(), head.trainSize(), read.rows().size() - head.trainSize(),
                    settings.validPct() * 100, settings.seed());
            console.println("epoch  train_loss  valid_loss  error_rate  time");
            for (EpochRecord r : head.history()) {
                console.printf(Locale.ROOT, "%5d  %10.4f  %10.4f  %10.4f  %.1fs%n", r.epoch(), r.trainLoss(),
                        r.validLoss(), r.errorRate(), r.seconds());
            }
            console.printf(Locale.ROOT, "Trained in %.1f s%n", (System.nanoTime() - start) / 1e9);
            head.export(artifact, command.force);
        }
        console.println("Model: " + artifact.toAbsolutePath());
        if (command.test != null) {
            try (Classifier classifier = Classifier.load(artifact)) {
                Predictions p = Evaluation.run(classifier, command.test, ProgressListener.NONE).predictions();
                console.println(p.accuracyLine("Test"));
                console.print(p.confusionTable());
            }
        }
        console.flush();
        return TunaCommand.OK;
    }
}
