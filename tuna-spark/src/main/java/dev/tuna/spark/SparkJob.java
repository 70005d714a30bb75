package dev.tuna.spark;

import dev.tuna.TunaException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;

/**
 * What {@link Predict} and {@link Featurize} share: running a picocli command against a Spark session,
 * with Tuna's exit codes (0 ok, 1 usage, 2 bad data or model file, 3 runtime failure) and one-line errors.
 */
abstract class SparkJob implements Callable<Integer> {
    /** The session the job runs in; set before {@link #call()}. */
    SparkSession spark;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--batch-size", defaultValue = "32", order = 90,
            description = "Images per forward pass on an executor (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @CommandLine.Option(names = "--overwrite", order = 91, description = "Replace the output folder if it exists.")
    boolean overwrite;

    /** Where the job's summary goes. @return the command line's output */
    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /**
     * Runs a job in an existing session (tests, notebooks).
     *
     * @param job the command object
     * @param spark the session
     * @param out where the summary goes
     * @param err where errors go
     * @param args the arguments
     * @return the exit code
     */
    static int run(SparkJob job, SparkSession spark, PrintWriter out, PrintWriter err, String... args) {
        job.spark = spark;
        CommandLine cli = new CommandLine(job);
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, c, parsed) -> {
            if (e instanceof TunaException te) {
                c.getErr().println(c.getCommandName() + ": " + te.getMessage());
                return switch (te.kind()) {
                    case USAGE -> 1;
                    case BAD_DATA, BAD_MODEL_FILE -> 2;
                    case RUNTIME -> 3;
                };
            }
            c.getErr().println(c.getCommandName() + ": failed: " + e);
            e.printStackTrace(c.getErr());
            return 3;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println(e.getCommandLine().getCommandName() + ": " + e.getMessage());
            e.getCommandLine().usage(e.getCommandLine().getErr());
            return 1;
        });
        return cli.execute(args);
    }

    /**
     * Entry point for spark-submit: the session from spark-submit's settings, stopped at the end.
     *
     * @param job the command object
     * @param appName the application's name
     * @param args the arguments
     */
    static void main(SparkJob job, String appName, String[] args) {
        CommandLine probe = new CommandLine(job);
        if (args.length == 0 || java.util.Arrays.asList(args).contains("--help")) { // no session for help
            probe.usage(System.out);
            System.exit(args.length == 0 ? 1 : 0);
        }
        SparkSession session = SparkSession.builder().appName(appName).getOrCreate();
        int code;
        try {
            code = run(job, session, new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
        } finally {
            session.stop();
        }
        System.exit(code);
    }
}
