package dev.tuna.cli;

import dev.tuna.TunaException;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.learn.BatchMix;
import dev.tuna.learn.Budget;
import dev.tuna.learn.Recipe;
import dev.tuna.learn.Checkpoint;
import dev.tuna.learn.CsvLogger;
import dev.tuna.learn.EarlyStopping;
import dev.tuna.learn.FineTune;
import dev.tuna.learn.Plan;
import dev.tuna.learn.Learner;
import dev.tuna.learn.LrFind;
import dev.tuna.learn.SaveBest;
import dev.tuna.inference.Predictions;
import dev.tuna.data.SampleGrid;
import dev.tuna.model.Architecture;
import dev.tuna.report.TrainingReport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tuna train}: fine-tune a pretrained CNN on a folder, export the model, optionally test it. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = {"Fine-tune an ImageNet-pretrained CNN on <folder>/<class>/<image> with fast.ai's fine_tune:",
                "one epoch with the body frozen, then --epochs epochs unfrozen with one-cycle schedules and",
                "discriminative learning rates. Writes the model artifact and, with --test, the test accuracy.",
                "After every epoch the training state is saved, atomically, to a checkpoint folder (by default",
                "<artifact>.checkpoint next to the model); --resume continues a killed run from its last complete",
                "epoch and ends as the uninterrupted run would. The checkpoint is deleted once the model is written."},
        footer = {"", "Examples:",
                "  tuna train flowers/ --test flowers-test/ --out flowers.tuna",
                "  tuna train flowers/ --arch mobilenet_v2 --weights mobilenet_v2_tflite --epochs 3 --lr auto",
                "  tuna train flowers/ --out flowers.tuna --resume    (after an interruption: same options + --resume)",
                "  tuna train flowers/ --freeze-mode frozen-bn    (faster frozen epoch: body features computed once)",
                "  tuna train flowers/ --augment flip --epochs 6 --label-smoothing 0.1 --tta --test flowers-test/"
                        + "    (a stronger recipe)",
                "  tuna train flowers/ --augment --min-scale 0.35 --mixup --epochs 8    (fast.ai aug_transforms, MixUp)",
                "  tuna train flowers/ --cutmix 1.0 --progressive 128:2 --size 224    (CutMix; 2 epochs at 128 px first)",
                "  tuna train flowers/ --early-stop 2:0.01 --save-best --log-csv train.csv",
                "  tuna train flowers/ --budget 15m --test flowers-test/    (Tuna chooses the recipe for 15 minutes)",
                "  tuna train --features flowers-features/ --epochs 3 --out flowers.tuna    (the head on features"
                        + " from Spark's Featurize)"})
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "<folder>",
            description = "Training images, one sub-folder per class (or --features instead).")
    Path folder;

    @Option(names = "--features", paramLabel = "<parquet>",
            description = "Train only fast.ai's head, on body features computed by dev.tuna.spark.Featurize (a Parquet"
                    + " folder): frozen-bn's cached frozen phase, --epochs epochs of it (default 1), same split.")
    Path features;

    @Option(names = "--body", paramLabel = "<model.tuna>",
            description = "With --features: the model the features were computed with (default: <parquet>/"
                    + FeatureParquet.MODEL_FOLDER + ", which Featurize leaves there).")
    Path body;

    @Mixin
    ModelOptions model;

    @Option(names = "--epochs", defaultValue = "3", description = "Unfrozen epochs after the frozen one (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", defaultValue = "2e-3", paramLabel = "<rate|auto>",
            description = "Base learning rate, or 'auto' to take the learning-rate finder's suggestion (default: ${DEFAULT-VALUE}).")
    String lr;

    @Option(names = "--test", paramLabel = "<folder>", description = "Evaluate on this labelled folder after training.")
    Path test;

    @Option(names = "--out", paramLabel = "<artifact>",
            description = "Model artifact folder to write (default: <folder name>-<arch>.tuna).")
    Path out;

    @Option(names = "--force", description = "Replace an existing model artifact and report.")
    boolean force;

    @Option(names = "--report", paramLabel = "<html>",
            description = "Training report, one self-contained HTML file (default: <artifact>-report.html;"
                    + " an existing file is kept and a new name chosen unless --force).")
    Path report;

    @Option(names = "--checkpoint", paramLabel = "<folder>",
            description = "Where the run's checkpoint is kept, rewritten after every epoch (default:"
                    + " <artifact>.checkpoint, e.g. flowers.tuna.checkpoint).")
    Path checkpoint;

    @Option(names = "--resume", description = "Continue an interrupted run from its checkpoint (give the same data"
            + " and options as that run; a checkpoint from a different run is refused).")
    boolean resume;

    @Option(names = "--tta", description = "Test-time augmentation for --test, as fast.ai's tta: 4 views under the"
            + " training transforms (random flips if none), blended 0.75/0.25 with the plain prediction.")
    boolean tta;

    @Option(names = "--label-smoothing", defaultValue = "0", paramLabel = "<epsilon>",
            description = "Label smoothing of the cross-entropy loss, in [0, 1) (default: ${DEFAULT-VALUE},"
                    + " plain cross-entropy as the reference recipe; fast.ai's LabelSmoothingCrossEntropy uses 0.1).")
    double labelSmoothing;

    @Option(names = "--mixup", arity = "0..1", fallbackValue = "0.4", paramLabel = "<alpha>",
            description = "MixUp: train on blends of image pairs and of their labels, weights from Beta(alpha, alpha)"
                    + " (alone: fast.ai's alpha 0.4).")
    Double mixup;

    @Option(names = "--cutmix", arity = "0..1", fallbackValue = "1.0", paramLabel = "<alpha>",
            description = "CutMix: paste a box of another image, labels weighted by its area, Beta(alpha, alpha)"
                    + " (alone: fast.ai's alpha 1.0).")
    Double cutmix;

    @Option(names = "--progressive", paramLabel = "<size>:<epochs>",
            description = "Progressive resizing (fast.ai's train small, then big): first fine-tune for <epochs> at"
                    + " <size> px, then fine-tune for --epochs at --size, e.g. 128:2.")
    String progressive;

    @Option(names = "--budget", paramLabel = "<duration>",
            description = "Choose the recipe for a wall-time budget, e.g. 15m, 900s or 1h: Tuna measures this"
                    + " machine on the first batches, then picks image size, epochs, augmentation, progressive"
                    + " resizing, label smoothing or MixUp and TTA so that the whole job (decoding and testing"
                    + " included) ends within it. Prints the plan before training; recorded in the model and report.")
    String budget;

    @Option(names = "--early-stop", paramLabel = "<patience>[:<min-delta>]",
            description = "Stop a phase when the validation loss has not improved by at least <min-delta> (default 0)"
                    + " for <patience> epochs (fast.ai's EarlyStoppingCallback).")
    String earlyStop;

    @Option(names = "--save-best", description = "At the end of each phase, go back to the weights of its epoch with"
            + " the lowest validation loss (fast.ai's SaveModelCallback; kept in memory, so after --resume only the"
            + " epochs since the resume count).")
    boolean saveBest;

    @Option(names = "--log-csv", paramLabel = "<file>",
            description = "Append one CSV row per epoch: phase, epoch, train_loss, valid_loss, error_rate, seconds"
                    + " (fast.ai's CSVLogger; a header when the file is new).")
    Path logCsv;

    @Mixin
    DataOptions data;

    @Mixin
    EngineOptions engine;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if ((folder == null) == (features == null)) {
            throw TunaException.usage(folder == null ? "Give the training <folder>, or --features <parquet>."
                    : "Give either a training <folder> or --features <parquet>, not both.");
        }
        if (features != null) {
            return new FeatureTraining(this, spec.commandLine().getParseResult()).run(spec.commandLine().getOut());
        }
        return run(spec.commandLine().getOut(), folder, test,
                out != null ? out : Path.of(defaultName(folder) + "-" + model.architecture().id() + ".tuna"));
    }

    /** --budget chooses these itself: giving them too is refused, naming them. */
    private void checkBudgetOptions() {
        java.util.List<String> chosen = java.util.List.of("--epochs", "--size", "--progressive", "--augment",
                "--min-scale", "--mixup", "--cutmix", "--label-smoothing", "--tta");
        java.util.List<String> given = spec == null ? java.util.List.of() : chosen.stream()
                .filter(name -> spec.commandLine().getParseResult().hasMatchedOption(name)).toList();
        if (!given.isEmpty()) {
            throw TunaException.usage("--budget chooses " + String.join(", ", given) + " itself; drop "
                    + (given.size() == 1 ? "it" : "them") + ", or drop --budget to set them by hand.");
        }
        if ("auto".equalsIgnoreCase(lr.trim())) {
            throw TunaException.usage("--budget does not include the learning-rate finder's time; drop --lr auto"
                    + " (the budget uses fast.ai's 2e-3) or give a rate.");
        }
        if (resume) {
            throw TunaException.usage("--resume does not cover --budget runs: the recipe is chosen from this"
                    + " machine's speed when the run starts. Run the command again without --resume.");
        }
    }

    /** The --early-stop callback, checked; null without the flag. */
    private EarlyStopping parseEarlyStop() {
        if (earlyStop == null) {
            return null;
        }
        String[] parts = earlyStop.split(":");
        try {
            int patience = Integer.parseInt(parts[0].trim());
            double minDelta = parts.length > 1 ? Double.parseDouble(parts[1].trim()) : 0;
            if (parts.length > 2 || patience < 1 || !(minDelta >= 0)) {
                throw new NumberFormatException();
            }
            return new EarlyStopping(patience, minDelta);
        } catch (NumberFormatException e) {
            throw TunaException.usage("--early-stop takes <patience>[:<min-delta>] with patience at least 1 and"
                    + " min-delta at least 0, e.g. 2 or 2:0.01; found '" + earlyStop + "'.");
        }
    }

    /** {size, epochs} of --progressive, checked; null without it. */
    private int[] parseProgressive() {
        if (progressive == null) {
            return null;
        }
        String[] parts = progressive.split(":");
        int size;
        int count;
        try {
            if (parts.length != 2) {
                throw new NumberFormatException();
            }
            size = Integer.parseInt(parts[0].trim());
            count = Integer.parseInt(parts[1].trim());
        } catch (NumberFormatException e) {
            throw TunaException.usage("--progressive takes <size>:<epochs>, e.g. 128:2; found '" + progressive + "'.");
        }
        if (size < 8 || size >= data.size || count < 1) {
            throw TunaException.usage("--progressive needs a size from 8 up to below --size (" + data.size
                    + ") and at least 1 epoch; found " + size + ":" + count + ".");
        }
        return new int[] {size, count};
    }

    /** The whole job: data, learner, fine-tuning, optional test, export. Also used by {@code demo}. */
    int run(PrintWriter console, Path folder, Path test, Path artifact) {
        Budget clock = budget != null ? Budget.start(Budget.parse(budget)) : null; // everything from here counts
        if (clock != null) {
            checkBudgetOptions();
        }
        if (Files.exists(artifact) && !force) {
            throw TunaException.usage("The model artifact " + artifact + " already exists; choose another --out or"
                    + " pass --force to replace it.");
        }
        if (epochs < 1) {
            throw TunaException.usage("--epochs must be at least 1; found " + epochs + ".");
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw TunaException.usage("--label-smoothing must be in [0, 1) (0.1 is usual); found " + labelSmoothing + ".");
        }
        if (mixup != null && cutmix != null) {
            throw TunaException.usage("Choose one of --mixup and --cutmix, not both.");
        }
        BatchMix mix = mixup != null ? BatchMix.mixup(mixup) : cutmix != null ? BatchMix.cutmix(cutmix) : null;
        int[] small = parseProgressive();
        EarlyStopping stopping = parseEarlyStop();
        double baseLr = parseLr();
        Path checkpoints = checkpoint != null ? checkpoint : Checkpoint.defaultFolder(artifact);
        Checkpoint previous = checkCheckpoint(checkpoints);
        if (previous != null && Double.isNaN(baseLr)) {
            baseLr = previous.settings().baseLr(); // the finder's suggestion of the interrupted run
        }
        engine.apply();
        Architecture arch = model.architecture();
        WeightsChoice choice = model.choice();
        console.printf(Locale.ROOT, "Training %s (weights: %s) on %s%n", arch.id(), choice.describe(), folder);
        console.flush();
        ImageFolder spec = data.folder(folder, choice.normalization(arch));
        if (small != null) {
            spec = spec.resize(small[0], data.resize);
        }
        Recipe recipe = null;
        if (clock != null) {
            console.printf(Locale.ROOT, "Measuring this machine for a budget of %s...%n", budget);
            console.flush();
            recipe = clock.choose(spec, arch, choice.entry() != null && choice.entry().tfSamePadding(), test);
            console.println("measured: " + clock.throughput().describe());
            console.println(recipe.describe());
            console.flush();
            spec = recipe.data(spec);
        }
        try (DataLoaders loaders = spec.dataloaders()) {
            console.print(loaders.summary().format(5));
            console.flush();
            if (clock != null) {
                Recipe fitted = clock.refit(recipe);
                if (!fitted.describe().equals(recipe.describe())) {
                    console.println("after decoding, " + fitted.describe());
                }
                recipe = fitted;
            }
            var builder = Learner.builder(loaders).architecture(arch).weights(choice.entry()).weightsFile(choice.file())
                    .catalog(WeightsChoice.catalog()).seed(data.seed)
                    .freezeMode(model.freezeMode).labelSmoothing(labelSmoothing)
                    .console(System.out, System.console() != null);
            if (recipe != null) {
                builder.recipe(recipe);
            }
            Budget.Guard guard = clock != null ? clock.guard(recipe, line -> {
                console.println(line);
                console.flush();
            }) : null;
            boolean testTta = recipe != null ? recipe.tta() : tta;
            try (Learner learner = builder.build()) {
                if (guard != null) {
                    learner.addCallback(guard);
                }
                if (mix != null) {
                    learner.addCallback(mix);
                }
                if (stopping != null) {
                    learner.addCallback(stopping);
                }
                if (saveBest) {
                    learner.addCallback(new SaveBest());
                }
                if (logCsv != null) {
                    learner.addCallback(new CsvLogger(logCsv));
                }
                LrFind found = null;
                if (previous != null) {
                    console.printf(Locale.ROOT, "Resuming from %s: %s%n", checkpoints, previous.describe());
                    console.flush();
                }
                if (Double.isNaN(baseLr)) {
                    found = learner.lrFind();
                    baseLr = found.suggestion();
                    console.printf(Locale.ROOT, "Learning-rate finder suggests %.2e%n", baseLr);
                    console.flush();
                }
                long start = System.nanoTime();
                FineTune settings = FineTune.DEFAULT.withBaseLr(baseLr);
                Plan plan = recipe != null ? recipe.plan(settings) : settings.plan(epochs);
                if (small != null) {
                    console.printf(Locale.ROOT, "Progressive resizing: %d epoch%s at %d px, then %d at %d px%n",
                            small[1], small[1] == 1 ? "" : "s", small[0], epochs, data.size);
                    console.flush();
                    plan = settings.plan(small[1]).atSize(small[0]).then(plan.atSize(data.size));
                }
                learner.fit(plan, checkpoints, resume);
                double seconds = (System.nanoTime() - start) / 1e9;
                console.printf(Locale.ROOT, "Trained in %.1f s%n", seconds);
                if (guard != null) {
                    recipe = guard.recipe(); // as re-planned when the full-size stage started
                }
                if (guard != null && guard.stopped()) {
                    console.printf(Locale.ROOT, "Stopped after %d epochs to stay within the budget of %s (this machine"
                            + " ran slower than measured).%n", learner.history().size(), budget);
                }
                Predictions predictions = null;
                if (test != null) {
                    predictions = learner.evaluate(test, testTta);
                    console.println(predictions.accuracyLine("Test"));
                    console.print(predictions.confusionTable());
                }
                learner.export(artifact, force);
                Checkpoint.delete(checkpoints); // the model is safe: nothing left to resume
                console.println("Model: " + artifact.toAbsolutePath());
                if (clock != null) {
                    console.printf(Locale.ROOT, "Budget: %.0f s of %s used before the report%n", clock.elapsedSeconds(),
                            budget);
                }
                TrainingReport page = new TrainingReport("Tuna training report: " + defaultName(folder))
                        .setting("data", folder.toAbsolutePath()).setting("architecture", arch.id())
                        .setting("weights", choice.describe()).setting("epochs", recipe != null ? recipe.totalEpochs() + " (budget " + budget + ": "
                                + recipe.describe() + ")" : "1 frozen + " + epochs + " unfrozen")
                        .setting("base learning rate", String.format(Locale.ROOT, "%.2e%s", baseLr,
                                found != null ? " (learning-rate finder)" : ""))
                        .setting("size", (recipe != null ? recipe.size() : data.size) + " px, " + data.resize.name().toLowerCase(Locale.ROOT)
                                + (small != null ? " (first " + small[1] + " epochs at " + small[0] + " px)" : "")
                                + (recipe != null && recipe.progressive() ? " (first " + (1 + recipe.smallEpochs())
                                        + " epochs at " + recipe.smallSize() + " px)" : ""))
                        .setting("validation", data.validPct + " (seed " + data.seed + ")")
                        .setting("batch size", data.batchSize).setting("augmentation", recipe != null ? "fastai" : data.augment())
                        .setting("label smoothing", recipe != null ? recipe.labelSmoothing() : labelSmoothing)
                        .setting("batch mixing", mix == null ? "none" : mix.id() + " (alpha " + mix.alpha() + ")")
                        .setting("threads", dev.tuna.internal.engine.Threads.intraOp())
                        .setting("training time", String.format(Locale.ROOT, "%.1f s%s", seconds,
                                previous != null ? " (resumed after " + previous.describe() + ")" : ""))
                        .setting("model", artifact.toAbsolutePath())
                        .dataset(learner.data().summary(), SampleGrid.draw(learner.data().train(), 3, 4, data.seed))
                        .training(learner.history(), learner.steps()).lrFind(found);
                if (predictions != null) {
                    page.test("Test", predictions);
                }
                Path html = OutputFiles.freshPath(report != null ? report
                        : artifact.resolveSibling(artifact.getFileName() + "-report.html"), force);
                page.write(html);
                console.println("Report: " + html.toAbsolutePath());
            }
        }
        console.flush();
        return TunaCommand.OK;
    }

    /**
     * With --resume, the checkpoint to continue (read and checked for format); without, refuses to
     * overwrite an unfinished run's checkpoint unless --force.
     */
    private Checkpoint checkCheckpoint(Path checkpoints) {
        if (resume) {
            return Checkpoint.read(checkpoints);
        }
        if (Checkpoint.exists(checkpoints) && !force) {
            String what;
            try {
                what = " (" + Checkpoint.read(checkpoints).describe() + ")";
            } catch (TunaException e) {
                what = " (damaged)";
            }
            throw TunaException.usage("The checkpoint of an unfinished run is in " + checkpoints + what + ". Pass"
                    + " --resume to continue it, or --force to start over and replace it.");
        }
        return null;
    }

    private double parseLr() {
        if (lr.equalsIgnoreCase("auto")) {
            return Double.NaN;
        }
        try {
            double value = Double.parseDouble(lr);
            if (value > 0 && value < 10) {
                return value;
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw TunaException.usage("--lr must be a positive number below 10 (e.g. 2e-3) or 'auto'; found '" + lr + "'.");
    }

    static String defaultName(Path folder) {
        Path name = folder.toAbsolutePath().normalize().getFileName();
        return name == null ? "model" : name.toString();
    }
}
