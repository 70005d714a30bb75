package dev.tuna.cli;

import dev.tuna.TunaException;
import dev.tuna.internal.nn.Numerics;
import java.io.PrintWriter;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code tuna} command: fine-tune ImageNet-pretrained CNNs on a folder of labelled images. */
@Command(
        name = "tuna",
        mixinStandardHelpOptions = true,
        versionProvider = TunaCommand.Version.class,
        description = "Fine-tune an ImageNet-pretrained CNN on a folder of labelled images.",
        subcommands = {TrainCommand.class, EvaluateCommand.class, PredictCommand.class, ExportCommand.class,
            LrFindCommand.class, DescribeCommand.class, DemoCommand.class, ServeCommand.class,
            CommandLine.HelpCommand.class},
        footer = {"", "Example:", "  tuna describe flowers/     summary of flowers/<class>/<image> + sample grid"})
public final class TunaCommand implements Runnable {
    /** Exit code for success. */
    public static final int OK = 0;
    /** Exit code for a usage error (bad flag or option value). */
    public static final int USAGE = 1;
    /** Exit code for bad data or a bad model file. */
    public static final int BAD_INPUT = 2;
    /** Exit code for a failure while running. */
    public static final int RUNTIME = 3;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces of errors and Tuna's debug log (for bug reports).")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Runs the command line and returns the exit code.
     *
     * @param args the arguments
     * @return 0 ok, 1 usage, 2 bad data or model file, 3 runtime failure
     */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /**
     * Runs the command line with the given output streams (for tests and embedding).
     *
     * @param out where results go
     * @param err where errors go
     * @param args the arguments
     * @return 0 ok, 1 usage, 2 bad data or model file, 3 runtime failure
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        Logging.configure(args); // before any logger is made
        CommandLine cli = new CommandLine(new TunaCommand());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler(TunaCommand::handle);
        cli.setParameterExceptionHandler((e, a) -> {
            PrintWriter errors = e.getCommandLine().getErr();
            errors.println("tuna: " + e.getMessage());
            errors.println("Run '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            return USAGE;
        });
        // a kernel found wrong on this CPU, and the safe path taken instead, is said in one line
        Consumer<String> notes = err::println;
        Numerics.addListener(notes);
        try {
            return cli.execute(args);
        } finally {
            Numerics.removeListener(notes);
        }
    }

    private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        boolean verbose = parsed.hasMatchedOption("--verbose")
                || (parsed.subcommand() != null && parsed.subcommand().hasMatchedOption("--verbose"));
        if (verbose) {
            e.printStackTrace(err);
        }
        if (e instanceof TunaException te) {
            err.println("tuna: " + te.getMessage());
            return switch (te.kind()) {
                case USAGE -> USAGE;
                case BAD_DATA, BAD_MODEL_FILE -> BAD_INPUT;
                case RUNTIME -> RUNTIME;
            };
        }
        if (e.getCause() instanceof OutOfMemoryError) {
            err.println("tuna: out of memory. Try a smaller --bs or --size.");
            return RUNTIME;
        }
        err.println("tuna: unexpected error: " + e + (verbose ? "" : " (run with --verbose for details)"));
        return RUNTIME;
    }

    /**
     * Entry point.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Prints the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = TunaCommand.class.getPackage().getImplementationVersion();
            return new String[] {"tuna " + (version == null ? "development build" : version)};
        }
    }
}
