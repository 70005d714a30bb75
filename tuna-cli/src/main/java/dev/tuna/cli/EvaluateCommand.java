package dev.tuna.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.Evaluation;
import dev.tuna.inference.Predictions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tuna evaluate}: accuracy, per-class precision/recall and the confusion matrix on a labelled folder. */
@Command(
        name = "evaluate",
        mixinStandardHelpOptions = true,
        description = {"Evaluate a trained model on a labelled folder (<folder>/<class>/<image>): accuracy,",
                "per-class precision and recall, confusion matrix and most confused pairs."},
        footer = {"", "Examples:", "  tuna evaluate flowers-resnet18.tuna flowers-test/",
                "  tuna evaluate flowers-resnet18.tuna flowers-test/ --json > result.json",
                "  tuna evaluate flowers-resnet18.tuna flowers-test/ --tta    (fast.ai test-time augmentation)"})
final class EvaluateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<model>", description = "A model folder written by 'tuna train', or an .onnx file from 'tuna export'"
            + " (runs on ONNX Runtime).")
    Path model;

    @Parameters(index = "1", paramLabel = "<folder>", description = "Labelled images, one sub-folder per class.")
    Path folder;

    @Option(names = "--json", description = "Print one JSON object instead of tables.")
    boolean json;

    @Mixin
    EngineOptions engine;

    @Option(names = "--tta", description = "Test-time augmentation as fast.ai's tta: 4 views under the transforms the"
            + " model was trained with (random flips if none), blended 0.75/0.25 with the plain prediction.")
    boolean tta;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        engine.applyFor(model);
        PrintWriter out = spec.commandLine().getOut();
        try (Classifier classifier = Classifier.load(model,
                engine.options(dev.tuna.inference.ClassifierOptions.DEFAULTS))) {
            Evaluation.Result result = Evaluation.run(classifier, folder,
                    json ? dev.tuna.ProgressListener.NONE : ConsoleProgress.stderr(), tta);
            Predictions predictions = result.predictions();
            if (json) {
                out.println(toJson(predictions, result.skipped().size()));
            } else {
                out.println(predictions.accuracyLine("Test"));
                out.printf(Locale.ROOT, "%-16s %9s %9s %8s%n", "class", "precision", "recall", "images");
                for (Predictions.ClassMetrics m : predictions.perClass()) {
                    out.printf(Locale.ROOT, "%-16s %9.3f %9.3f %8d%n", m.name(), m.precision(), m.recall(), m.support());
                }
                out.println();
                out.print(predictions.confusionTable());
                List<Predictions.Confusion> confused = predictions.mostConfused(1);
                if (!confused.isEmpty()) {
                    out.println("Most confused (actual -> predicted: count):");
                    confused.stream().limit(10).forEach(c ->
                            out.printf(Locale.ROOT, "  %s -> %s: %d%n", c.actual(), c.predicted(), c.count()));
                }
                for (dev.tuna.data.SkippedFile skipped : result.skipped()) {
                    out.println("skipped " + skipped);
                }
            }
        }
        out.flush();
        return TunaCommand.OK;
    }

    static String toJson(Predictions p, int skipped) {
        JsonObject o = new JsonObject();
        o.addProperty("accuracy", p.accuracy());
        o.addProperty("correct", p.correct());
        o.addProperty("total", p.total());
        o.addProperty("skipped", skipped);
        JsonArray classes = new JsonArray();
        p.classes().forEach(classes::add);
        o.add("classes", classes);
        JsonArray confusion = new JsonArray();
        for (int[] row : p.confusionMatrix()) {
            JsonArray r = new JsonArray();
            for (int v : row) {
                r.add(v);
            }
            confusion.add(r);
        }
        o.add("confusion", confusion);
        JsonArray perClass = new JsonArray();
        for (Predictions.ClassMetrics m : p.perClass()) {
            JsonObject c = new JsonObject();
            c.addProperty("class", m.name());
            c.addProperty("precision", Double.isNaN(m.precision()) ? null : m.precision());
            c.addProperty("recall", Double.isNaN(m.recall()) ? null : m.recall());
            c.addProperty("support", m.support());
            perClass.add(c);
        }
        o.add("perClass", perClass);
        JsonArray wrong = new JsonArray();
        List<Predictions.Loss> losses = new ArrayList<>(p.topLosses(p.total()));
        for (Predictions.Loss l : losses) {
            if (!l.actual().equals(l.predicted())) {
                JsonObject w = new JsonObject();
                w.addProperty("path", l.path().toString());
                w.addProperty("actual", l.actual());
                w.addProperty("predicted", l.predicted());
                w.addProperty("probability", l.probability());
                wrong.add(w);
            }
        }
        o.add("misclassified", wrong);
        return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o);
    }
}
