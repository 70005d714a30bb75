package dev.tuna.cli;

import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.SampleGrid;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tuna describe}: dataset summary and a sample-batch picture. */
@Command(
        name = "describe",
        mixinStandardHelpOptions = true,
        description = {"Summarise an image folder (<folder>/<class>/<image>): images per class and split,",
                "image sizes, images per file format, skipped files counted by reason, label conflicts (the same image in two",
                "classes), classes with too few images; and draw a sample batch as a PNG grid."},
        footer = {"", "Example:", "  tuna describe ../shared/datasets/flowers --grid flowers-batch.png"})
final class DescribeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<folder>", description = "The dataset folder, one sub-folder per class.")
    Path folder;

    @picocli.CommandLine.Mixin
    DataOptions data;

    @Option(names = "--threads", description = "Decoding threads (default: one per core).")
    Integer threads;

    @Option(names = "--grid", paramLabel = "<png>",
            description = "Where to write the sample-batch picture (default: <folder name>-batch.png; an"
                    + " existing file is kept and a new name chosen unless --force).")
    Path grid;

    @Option(names = "--rows", defaultValue = "3", description = "Rows of the sample grid (default: ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--cols", defaultValue = "4", description = "Columns of the sample grid (default: ${DEFAULT-VALUE}).")
    int columns;

    @Option(names = "--list", defaultValue = "20",
            description = "How many skipped files to list by name for each reason, and how many label"
                    + " conflicts (default: ${DEFAULT-VALUE}).")
    int listed;

    @Option(names = "--force", description = "Overwrite the grid file if it exists.")
    boolean force;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (rows < 1 || columns < 1) {
            throw dev.tuna.TunaException.usage("--rows and --cols must be at least 1; found " + rows + " and "
                    + columns + ".");
        }
        ImageFolder folderSpec = data.folder(folder, dev.tuna.transform.Normalization.IMAGENET);
        if (threads != null) {
            folderSpec = folderSpec.threads(threads);
        }
        try (DataLoaders loaders = folderSpec.dataloaders()) {
            java.io.PrintWriter out = spec.commandLine().getOut();
            out.print(loaders.summary().format(listed));
            Path png = OutputFiles.freshPath(grid != null ? grid : defaultGrid(), force);
            SampleGrid.write(loaders.train().size() > 0 ? loaders.train() : loaders.valid(), rows, columns, this.data.seed,
                    png);
            out.println("Sample batch: " + png.toAbsolutePath());
            out.flush();
        }
        return TunaCommand.OK;
    }

    private Path defaultGrid() {
        Path name = folder.toAbsolutePath().normalize().getFileName();
        return Path.of((name == null ? "dataset" : name.toString()) + "-batch.png");
    }

}
