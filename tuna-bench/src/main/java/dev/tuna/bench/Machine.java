package dev.tuna.bench;

import dev.tuna.internal.nn.Numerics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** What every benchmark prints first: the CPU (model, vendor family, vector units) and the kernel check. */
final class Machine {
    private Machine() {}

    /** One line about the CPU, from /proc/cpuinfo (or the JVM's view elsewhere). */
    static String cpu() {
        String model = "unknown CPU";
        String family = "?";
        String flags = "";
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String line : lines) {
                String value = line.contains(":") ? line.substring(line.indexOf(':') + 1).trim() : "";
                if (line.startsWith("model name") && model.equals("unknown CPU")) {
                    model = value;
                } else if (line.startsWith("cpu family") && family.equals("?")) {
                    family = value;
                } else if (line.startsWith("flags") && flags.isEmpty()) {
                    flags = " " + value + " ";
                }
            }
        } catch (IOException e) {
            model = System.getProperty("os.arch");
        }
        String isa = flags.contains(" amx_tile ") ? "AVX-512 + AMX" : flags.contains(" avx512f ") ? "AVX-512"
                : flags.contains(" avx2 ") ? "AVX2" : "no AVX2";
        String limit = System.getenv("ONEDNN_MAX_CPU_ISA");
        return String.format(Locale.ROOT, "CPU: %s (family %s, %s, %d cores)%s", model, family, isa,
                Runtime.getRuntime().availableProcessors(), limit == null ? "" : "; ONEDNN_MAX_CPU_ISA=" + limit);
    }

    /** One line about Tuna's kernel check: its time, and what it switched. */
    static String numerics() {
        Numerics numerics = Numerics.current();
        List<String> notes = numerics.notes();
        return String.format(Locale.ROOT, "kernel check: %.3f s; %s", numerics.checkSeconds(),
                notes.isEmpty() ? "every kernel agrees with float64" : String.join(" | ", notes));
    }
}
