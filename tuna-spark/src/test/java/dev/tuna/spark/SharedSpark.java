package dev.tuna.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** The one local Spark session of this module's tests ({@code local[2]}), and the shared data beside the repository. */
final class SharedSpark {
    private static SparkSession session;

    private SharedSpark() { }

    /** The session, started on first use and stopped when the test JVM exits. */
    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder().master("local[2]").appName("tuna-spark-tests")
                    .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .getOrCreate();
            session.sparkContext().setLogLevel("WARN");
            SparkSession started = session;
            Runtime.getRuntime().addShutdownHook(new Thread(started::stop));
        }
        return session;
    }

    /** A path under ../shared (found from the working directory or its parents), or null. */
    static Path shared(String relative) {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 4 && dir != null; i++, dir = dir.getParent()) {
            for (Path candidate : new Path[] {dir.resolve("shared").resolve(relative),
                dir.resolveSibling("shared").resolve(relative)}) {
                if (Files.exists(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }
}
