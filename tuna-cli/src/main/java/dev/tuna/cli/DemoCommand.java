package dev.tuna.cli;

import dev.tuna.data.FlowersDataset;
import dev.tuna.model.WeightCatalog;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tuna demo}: the reference workflow end to end on the flowers data. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {"The reference workflow in one command: fine-tune on the flowers photos (80/20 split,",
                "seed 42, 192 px squish, fineTune(3)), test on the withheld folder, export the model and",
                "write the training report (its path is printed; nothing is opened).",
                "Data and weights come from $TUNA_HOME (default ~/.cache/tuna): datasets/flowers,",
                "datasets/flowers-test and the weights; missing ones are downloaded when online."},
        footer = {"", "Examples:", "  tuna demo",
                "  TUNA_HOME=../shared tuna demo --arch mobilenet_v2      (offline, from the shared folder)"})
final class DemoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--epochs", defaultValue = "3", description = "Unfrozen epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", defaultValue = "2e-3", paramLabel = "<rate|auto>",
            description = "Base learning rate or 'auto' (default: ${DEFAULT-VALUE}).")
    String lr;

    @Option(names = "--out", paramLabel = "<artifact>",
            description = "Model artifact folder (default: flowers-<arch>.tuna in the working directory).")
    Path out;

    @Option(names = "--force", description = "Replace an existing model artifact and report.")
    boolean force;

    @Option(names = "--report", paramLabel = "<html>",
            description = "Training report (default: <artifact>-report.html).")
    Path report;

    @Option(names = "--resume", description = "Continue an interrupted demo from its checkpoint"
            + " (<artifact>.checkpoint).")
    boolean resume;

    @Mixin
    DataOptions data;

    @Mixin
    EngineOptions engine;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        FlowersDataset.Folders folders = FlowersDataset.ensure(WeightCatalog.defaultHome(), ConsoleProgress.stderr());
        TrainCommand train = new TrainCommand();
        train.model = model;
        train.epochs = epochs;
        train.lr = lr;
        train.force = force;
        train.resume = resume;
        train.report = report;
        train.data = data;
        train.engine = engine;
        Path artifact = out != null ? out : Path.of("flowers-" + model.architecture().id() + ".tuna");
        return train.run(spec.commandLine().getOut(), folders.train(), folders.test(), artifact);
    }
}
