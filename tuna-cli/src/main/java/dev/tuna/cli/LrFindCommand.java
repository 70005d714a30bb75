package dev.tuna.cli;

import dev.tuna.data.DataLoaders;
import dev.tuna.learn.Learner;
import dev.tuna.learn.LrFind;
import dev.tuna.model.Architecture;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tuna lr-find}: fast.ai's learning-rate finder on the frozen pretrained model. */
@Command(
        name = "lr-find",
        mixinStandardHelpOptions = true,
        description = {"Run the learning-rate finder (rates from 1e-7 to 10 over up to 100 batches, on the frozen",
                "pretrained model), print the curve and the suggested rate, and draw the plot."},
        footer = {"", "Example:", "  tuna lr-find flowers/ --arch resnet18 --plot lr.png"})
final class LrFindCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<folder>", description = "Training images, one sub-folder per class.")
    Path folder;

    @Mixin
    ModelOptions model;

    @Option(names = "--plot", paramLabel = "<png>", description = "Where to draw the curve (default: lr-find.png;"
            + " an existing file is kept and a new name chosen unless --force).")
    Path plot;

    @Option(names = "--force", description = "Overwrite the plot file.")
    boolean force;

    @Mixin
    DataOptions data;

    @Mixin
    EngineOptions engine;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        engine.apply();
        PrintWriter out = spec.commandLine().getOut();
        Architecture arch = model.architecture();
        WeightsChoice choice = model.choice();
        try (DataLoaders loaders = data.folder(folder, choice.normalization(arch)).dataloaders();
             Learner learner = Learner.builder(loaders).architecture(arch).weights(choice.entry()).weightsFile(choice.file())
                     .catalog(WeightsChoice.catalog()).seed(data.seed)
                    .freezeMode(model.freezeMode).console(null, false).build()) {
            LrFind result = learner.lrFind();
            out.printf(Locale.ROOT, "%-12s %s%n", "lr", "smoothed loss");
            int step = Math.max(1, result.learningRates().length / 20);
            for (int i = 0; i < result.learningRates().length; i += step) {
                out.printf(Locale.ROOT, "%-12.3e %.4f%n", result.learningRates()[i], result.losses()[i]);
            }
            out.printf(Locale.ROOT, "Suggested learning rate (valley): %.2e%n", result.suggestion());
            Path png = OutputFiles.freshPath(plot != null ? plot : Path.of("lr-find.png"), force);
            dev.tuna.report.Plots.write(dev.tuna.report.Plots.lrFinder(result, 720, 440), png);
            out.println("Plot: " + png.toAbsolutePath());
        }
        out.flush();
        return TunaCommand.OK;
    }
}
