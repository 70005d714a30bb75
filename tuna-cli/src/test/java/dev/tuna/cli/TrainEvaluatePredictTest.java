package dev.tuna.cli;

import static dev.tuna.cli.DescribeCommandTest.tuna;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuna.cli.DescribeCommandTest.Run;
import dev.tuna.internal.nn.Numerics;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real commands on small generated data: train, then evaluate and predict with the exported model. */
class TrainEvaluatePredictTest {
    @TempDir
    static Path dir;
    static Path model;
    /** The training run's "Test accuracy: 83.33% (5/6)" line. */
    static String trainedLine;

    private static void image(Path file, int base, Random random) throws IOException {
        BufferedImage image = new BufferedImage(24, 24, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 24; y++) {
            for (int x = 0; x < 24; x++) {
                image.setRGB(x, y, base + random.nextInt(40));
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
    }

    @BeforeAll
    static void train() throws IOException {
        Random random = new Random(1);
        for (int i = 0; i < 12; i++) {
            image(dir.resolve("data/red/" + i + ".png"), 0xC00000, random);
            image(dir.resolve("data/blue/" + i + ".png"), 0x0000C0, random);
        }
        for (int i = 0; i < 3; i++) {
            image(dir.resolve("test/red/" + i + ".png"), 0xC00000, random);
            image(dir.resolve("test/blue/" + i + ".png"), 0x0000C0, random);
        }
        model = dir.resolve("model.tuna");
        Run run = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--epochs", "1", "--size", "32",
                "--bs", "4", "--test", dir.resolve("test").toString(), "--out", model.toString());
        assertThat(run.code()).as(run.err() + run.out()).isZero();
        assertThat(run.out()).contains("Model: ");
        trainedLine = run.out().lines().filter(l -> l.startsWith("Test accuracy: ")).findFirst().orElseThrow();
        assertThat(model.resolve("model.json")).isRegularFile();
    }

    /** Red against blue is learnable in two short epochs: the (smoothed) training loss falls. */
    @Test
    void theLossFalls() throws IOException {
        var history = JsonParser.parseString(Files.readString(model.resolve("model.json"))).getAsJsonObject()
                .getAsJsonObject("training").getAsJsonArray("history");
        assertThat(history).hasSize(2); // the frozen epoch, then the unfrozen one
        double first = history.get(0).getAsJsonObject().get("trainLoss").getAsDouble();
        double last = history.get(1).getAsJsonObject().get("trainLoss").getAsDouble();
        // by more than noise (0.67 -> 0.49 here), and from chance level (ln 2) downwards
        assertThat(last).as("train loss %s then %s", first, last).isLessThan(0.85 * first).isLessThan(Math.log(2));
    }

    @Test
    void evaluateJsonHasTheDocumentedFields() {
        Run run = tuna("evaluate", model.toString(), dir.resolve("test").toString(), "--json");
        assertThat(run.code()).as(run.err()).isZero();
        JsonObject json = JsonParser.parseString(run.out()).getAsJsonObject();
        assertThat(json.get("total").getAsInt()).isEqualTo(6);
        // the exported model, in a fresh load, reproduces the training run's test result exactly
        Matcher trained = Pattern.compile("\\((\\d+)/6\\)$").matcher(trainedLine);
        assertThat(trained.find()).as(trainedLine).isTrue();
        int correct = Integer.parseInt(trained.group(1));
        assertThat(json.get("correct").getAsInt()).isEqualTo(correct);
        assertThat(json.get("accuracy").getAsDouble()).isEqualTo(correct / 6.0);
        assertThat(json.getAsJsonArray("classes")).hasSize(2);
        assertThat(json.getAsJsonArray("confusion")).hasSize(2);
        Run text = tuna("evaluate", model.toString(), dir.resolve("test").toString());
        assertThat(text.out()).contains(trainedLine, "precision", "recall", "actual\\predicted");
    }

    @Test
    void predictPrintsLabelsForFilesAndFolders() {
        Run run = tuna("predict", model.toString(), dir.resolve("test/red/0.png").toString(), "--top-k", "2");
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("0.png\t").containsPattern("(red|blue) \\d\\.\\d{4}, (red|blue) \\d\\.\\d{4}");
        Run json = tuna("predict", model.toString(), dir.resolve("test").toString(), "--json");
        assertThat(json.code()).isZero();
        assertThat(JsonParser.parseString(json.out()).getAsJsonObject().getAsJsonArray("predictions")).hasSize(6);
    }

    /**
     * {@code predict --csv}: one row per file of the folder in path order, bad files with their reason and
     * exit code 0, the same labels as one-image predict; an existing file is kept unless --force.
     */
    @Test
    void predictCsvWritesOneRowPerFileAndKeepsAnExistingFile() throws IOException {
        Path folder = dir.resolve("csv-in");
        Files.createDirectories(folder.resolve("b"));
        Files.copy(dir.resolve("test/red/0.png"), folder.resolve("b/red.png"));
        Files.copy(dir.resolve("test/blue/1.png"), folder.resolve("a, \"blue\".png"));
        Files.writeString(folder.resolve("notes.txt"), "not an image");
        Files.write(folder.resolve("b/empty.png"), new byte[0]);
        Path csv = dir.resolve("predictions.csv");

        Run run = tuna("predict", model.toString(), folder.toString(), "--csv", csv.toString(), "--top-k", "2",
                "--batch-size", "3");
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("4 files, 2 predicted, 2 errors; ").contains("(batch size 3)")
                .contains("Predictions: " + csv.toAbsolutePath());
        List<CSVRecord> rows = csv(csv);
        assertThat(rows).extracting(r -> r.get("path"))
                .containsExactly("a, \"blue\".png", "b/empty.png", "b/red.png", "notes.txt");
        assertThat(rows.get(1).get("error")).isEqualTo("empty file (0 bytes)");
        assertThat(rows.get(3).get("error")).startsWith("not an image");
        for (int i : new int[] {0, 2}) {
            Path image = folder.resolve(rows.get(i).get("path"));
            Run single = tuna("predict", model.toString(), image.toString());
            String label = single.out().split("\t")[1].split(" ")[0];
            assertThat(rows.get(i).get("label")).isEqualTo(label);
            assertThat(rows.get(i).get("top_k")).startsWith(label + ":").contains(";");
            assertThat(rows.get(i).get("error")).isEmpty();
        }

        String before = Files.readString(csv);
        Run again = tuna("predict", model.toString(), folder.toString(), "--csv", csv.toString());
        assertThat(again.code()).as(again.err()).isZero();
        Path second = dir.resolve("predictions-2.csv");
        assertThat(again.out()).contains("Predictions: " + second.toAbsolutePath());
        assertThat(Files.readString(csv)).isEqualTo(before);
        assertThat(csv(second)).hasSize(4);
        Run forced = tuna("predict", model.toString(), folder.toString(), "--csv", csv.toString(), "--force");
        assertThat(forced.code()).as(forced.err()).isZero();
        assertThat(forced.out()).contains("Predictions: " + csv.toAbsolutePath());
        assertThat(dir.resolve("predictions-3.csv")).doesNotExist();
        assertThat(Files.readString(csv)).isNotEqualTo(before); // top-1 only now
    }

    @Test
    void predictCsvOptionsAreCheckedAsUsage() {
        String folder = dir.resolve("test").toString();
        String csv = dir.resolve("never.csv").toString();
        Run two = tuna("predict", model.toString(), folder, folder, "--csv", csv);
        assertThat(two.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(two.err()).contains("--csv takes exactly one folder; found 2 input(s)");
        Run json = tuna("predict", model.toString(), folder, "--csv", csv, "--json");
        assertThat(json.code()).isEqualTo(TunaCommand.USAGE);
        Run batch = tuna("predict", model.toString(), folder, "--batch-size", "4");
        assertThat(batch.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(batch.err()).contains("--batch-size applies to --csv only");
        Run zero = tuna("predict", model.toString(), folder, "--csv", csv, "--batch-size", "0");
        assertThat(zero.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(Path.of(csv)).doesNotExist();
    }

    private static List<CSVRecord> csv(Path file) throws IOException {
        try (CSVParser parser = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(Files.newBufferedReader(file))) {
            assertThat(parser.getHeaderNames()).containsExactly("path", "label", "probability", "top_k", "error");
            return parser.getRecords();
        }
    }

    /**
     * On a CPU whose kernels are wrong (simulated: every 3x3 convolution, and ResNet-18's 1x1
     * downsampling to 256 channels, which no start-up probe has), predictions stay what they were and
     * stderr says which operation was switched, once.
     */
    @Test
    void wrongKernelsAreSaidInOneLineAndPredictionsStayTheSame() {
        String[] args = {"predict", model.toString(), dir.resolve("test").toString(), "--json"};
        Run right = tuna(args);
        assertThat(right.code()).as(right.err()).isZero();
        assertThat(right.err()).doesNotContain("numerics:");
        Numerics before = Numerics.current();
        try {
            Numerics.reset("spatial_conv,pointwise_conv:256");
            Run run = tuna(args);
            assertThat(run.code()).as(run.err()).isZero();
            var expected = JsonParser.parseString(right.out()).getAsJsonObject().getAsJsonArray("predictions");
            var got = JsonParser.parseString(run.out()).getAsJsonObject().getAsJsonArray("predictions");
            assertThat(got).hasSize(expected.size());
            for (int i = 0; i < got.size(); i++) {
                JsonObject a = got.get(i).getAsJsonObject();
                JsonObject b = expected.get(i).getAsJsonObject();
                assertThat(a.get("label")).isEqualTo(b.get("label"));
                assertThat(a.get("probability").getAsDouble()).isCloseTo(b.get("probability").getAsDouble(),
                        org.assertj.core.api.Assertions.within(1e-4));
            }
            assertThat(run.err().lines().filter(l -> l.startsWith("numerics: 3x3 convolution gave wrong numbers")))
                    .hasSize(1);
            assertThat(run.err()).contains("numerics: 1x1 convolution gave wrong numbers on this CPU for 128->256");
        } finally {
            Numerics.install(before);
        }
    }

    @Test
    void trainsWithFastaiAugmentationAndRecordsIt() throws IOException {
        Path augmented = dir.resolve("augmented.tuna");
        Run run = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--epochs", "1", "--size", "32",
                "--bs", "4", "--augment", "--min-scale", "0.5", "--tta", "--test", dir.resolve("test").toString(),
                "--out", augmented.toString());
        assertThat(run.code()).as(run.err() + run.out()).isZero();
        // test-time augmentation: the exported model sees the same views as the learner did
        String trained = run.out().lines().filter(l -> l.startsWith("Test accuracy: ")).findFirst().orElseThrow();
        Run reloaded = tuna("evaluate", augmented.toString(), dir.resolve("test").toString(), "--tta");
        assertThat(reloaded.code()).as(reloaded.err()).isZero();
        assertThat(reloaded.out()).contains(trained);
        Run predict = tuna("predict", augmented.toString(), dir.resolve("test/red/0.png").toString(), "--tta");
        assertThat(predict.code()).as(predict.err()).isZero();
        JsonObject training = JsonParser.parseString(Files.readString(augmented.resolve("model.json")))
                .getAsJsonObject().getAsJsonObject("training");
        JsonObject augmentations = training.getAsJsonObject("augmentations");
        assertThat(augmentations.get("flipProbability").getAsDouble()).isEqualTo(0.5);
        assertThat(augmentations.get("maxRotate").getAsDouble()).isEqualTo(10.0);
        assertThat(augmentations.get("minScale").getAsDouble()).isEqualTo(0.5);
        Run bad = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--augment=sideways");
        assertThat(bad.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(bad.err()).contains("--augment takes fastai, flip or none; found 'sideways'");
        Run scale = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--augment", "flip",
                "--min-scale", "0.5");
        assertThat(scale.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(scale.err()).contains("--min-scale needs --augment fastai");
    }

    @Test
    void trainsWithMixupOrCutmixAndRecordsIt() throws IOException {
        Path mixed = dir.resolve("mixup.tuna");
        Run run = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--epochs", "1", "--size", "32",
                "--bs", "4", "--mixup", "--out", mixed.toString());
        assertThat(run.code()).as(run.err() + run.out()).isZero();
        JsonObject training = JsonParser.parseString(Files.readString(mixed.resolve("model.json")))
                .getAsJsonObject().getAsJsonObject("training");
        assertThat(training.get("mixup").getAsDouble()).isEqualTo(0.4);
        Path cut = dir.resolve("cutmix.tuna");
        Run cutmix = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--epochs", "1", "--size",
                "32", "--bs", "4", "--cutmix", "0.5", "--out", cut.toString());
        assertThat(cutmix.code()).as(cutmix.err() + cutmix.out()).isZero();
        assertThat(JsonParser.parseString(Files.readString(cut.resolve("model.json"))).getAsJsonObject()
                .getAsJsonObject("training").get("cutmix").getAsDouble()).isEqualTo(0.5);
        Run both = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--mixup", "--cutmix");
        assertThat(both.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(both.err()).contains("Choose one of --mixup and --cutmix");
        Run bad = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--mixup", "-1",
                "--out", dir.resolve("bad.tuna").toString());
        assertThat(bad.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(bad.err()).contains("The mixup alpha must be in (0, 100]; found -1.0");
    }

    @Test
    void progressiveResizingTrainsSmallThenBig() throws IOException {
        Path model = dir.resolve("progressive.tuna");
        Run run = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--epochs", "1", "--size", "32",
                "--bs", "4", "--progressive", "24:1", "--test", dir.resolve("test").toString(), "--out",
                model.toString());
        assertThat(run.code()).as(run.err() + run.out()).isZero();
        assertThat(run.out()).contains("Progressive resizing: 1 epoch at 24 px, then 1 at 32 px");
        JsonObject json = JsonParser.parseString(Files.readString(model.resolve("model.json"))).getAsJsonObject();
        assertThat(json.toString()).contains("\"inputSize\":32");
        // two fine-tunings: frozen and unfrozen at 24 px, then again at 32 px
        assertThat(json.getAsJsonObject("training").getAsJsonArray("history")).hasSize(4);
        Run evaluate = tuna("evaluate", model.toString(), dir.resolve("test").toString());
        assertThat(evaluate.code()).isZero();
        String trained = run.out().lines().filter(l -> l.startsWith("Test accuracy: ")).findFirst().orElseThrow();
        assertThat(evaluate.out()).contains(trained);
        Run bad = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--size", "32", "--progressive",
                "48:1");
        assertThat(bad.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(bad.err()).contains("--progressive needs a size from 8 up to below --size (32)");
        Run form = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--progressive", "small");
        assertThat(form.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(form.err()).contains("--progressive takes <size>:<epochs>");
    }

    /** --budget measures, prints its plan, trains it, records it, and ends within the budget (+10%). */
    @Test
    void aBudgetChoosesThePlanAndKeepsToIt() throws IOException {
        Path model = dir.resolve("budget.tuna");
        Run run = tuna("train", dir.resolve("data").toString(), "--arch", "mobilenet_v2", "--weights", "none",
                "--bs", "4", "--budget", "90s", "--test", dir.resolve("test").toString(), "--out", model.toString());
        assertThat(run.code()).as(run.err() + run.out()).isZero();
        assertThat(run.out()).contains("Measuring this machine for a budget of 90s").containsPattern(
                "plan: [0-9→]+ px, 1\\+\\d+ epochs.*, aug_transforms, label smoothing 0.1.*; estimated \\d+ s");
        double used = Double.parseDouble(run.out().lines().filter(l -> l.startsWith("Budget: ")).findFirst()
                .orElseThrow().split(" ")[1]);
        assertThat(used).isLessThanOrEqualTo(99);
        JsonObject training = JsonParser.parseString(Files.readString(model.resolve("model.json"))).getAsJsonObject()
                .getAsJsonObject("training");
        JsonObject recipe = training.getAsJsonObject("recipe");
        assertThat(recipe.get("description").getAsString()).startsWith("plan: ");
        int planned = 1 + recipe.get("epochs").getAsInt()
                + (recipe.has("smallEpochs") ? recipe.get("smallEpochs").getAsInt() : 0);
        if (run.out().contains("to stay within the budget")) { // the machine slowed down: the guard stopped early
            assertThat(training.getAsJsonArray("history").size()).isLessThan(planned);
        } else {
            assertThat(training.getAsJsonArray("history")).hasSize(planned);
        }
        assertThat(training.get("labelSmoothing").getAsDouble()).isEqualTo(0.1);
        assertThat(Files.readString(dir.resolve("budget.tuna-report.html"))).contains("plan: ");

        Run chosen = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--budget", "10m",
                "--epochs", "5", "--tta");
        assertThat(chosen.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(chosen.err()).contains("--budget chooses --epochs, --tta itself; drop them");
        Run form = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--budget", "soon");
        assertThat(form.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(form.err()).contains("A time budget looks like 15m, 900s, 1h30m or 600 (seconds); found 'soon'");
        Run tiny = tuna("train", dir.resolve("data").toString(), "--arch", "mobilenet_v2", "--weights", "none",
                "--bs", "4", "--budget", "2s", "--out", dir.resolve("tiny.tuna").toString());
        assertThat(tiny.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(tiny.err()).contains("is too small for this data on this machine").contains("Give at least --budget");
        assertThat(dir.resolve("tiny.tuna")).doesNotExist();
    }

    @Test
    void earlyStoppingSaveBestAndTheCsvLogWork() throws IOException {
        Path model = dir.resolve("stopped.tuna");
        Path csv = dir.resolve("logs/train.csv");
        // an improvement of 0.5 in validation loss is out of reach at this learning rate: the unfrozen phase
        // stops after its second epoch instead of running all 3
        Run run = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--epochs", "3", "--size", "32",
                "--bs", "4", "--lr", "1e-7", "--early-stop", "1:0.5", "--save-best", "--log-csv", csv.toString(),
                "--out", model.toString());
        assertThat(run.code()).as(run.err() + run.out()).isZero();
        List<String> rows = Files.readAllLines(csv);
        assertThat(rows.get(0)).isEqualTo("phase,epoch,train_loss,valid_loss,error_rate,seconds");
        assertThat(rows).hasSize(1 + 1 + 2);
        assertThat(rows.get(1)).startsWith("frozen,0,");
        assertThat(rows.get(3)).startsWith("unfrozen,1,");
        JsonObject json = JsonParser.parseString(Files.readString(model.resolve("model.json"))).getAsJsonObject();
        assertThat(json.getAsJsonObject("training").getAsJsonArray("history")).hasSize(3);
        Run bad = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--early-stop", "0");
        assertThat(bad.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(bad.err()).contains("--early-stop takes <patience>[:<min-delta>]");
    }

    @Test
    void badInputsGetExitCodesAndMessages() throws IOException {
        Run missing = tuna("train", dir.resolve("nope").toString(), "--weights", "none");
        assertThat(missing.code()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(missing.err()).contains("Folder not found").doesNotContain("\tat ");
        Files.createDirectories(dir.resolve("empty"));
        Run empty = tuna("train", dir.resolve("empty").toString(), "--weights", "none", "--out", dir.resolve("e.tuna").toString());
        assertThat(empty.code()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(empty.err()).contains("No images found");
        Path corrupt = dir.resolve("corrupt.tuna");
        Files.createDirectories(corrupt);
        Files.writeString(corrupt.resolve("model.json"), "{ not json");
        Run bad = tuna("evaluate", corrupt.toString(), dir.resolve("test").toString());
        assertThat(bad.code()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(bad.err()).startsWith("tuna: ").doesNotContain("\tat ");
        Run flag = tuna("train", dir.resolve("data").toString(), "--epochz", "2");
        assertThat(flag.code()).isEqualTo(TunaCommand.USAGE);
        Run smoothing = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--label-smoothing", "1.5",
                "--out", dir.resolve("s.tuna").toString());
        assertThat(smoothing.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(smoothing.err()).contains("--label-smoothing must be in [0, 1)").contains("1.5").doesNotContain("\tat ");
        assertThat(dir.resolve("s.tuna")).doesNotExist();
        Run exists = tuna("train", dir.resolve("data").toString(), "--weights", "none", "--out", model.toString());
        assertThat(exists.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(exists.err()).contains("already exists").contains("--force");
        Run mismatch = tuna("train", dir.resolve("data").toString(), "--arch", "resnet18", "--weights",
                "mobilenet_v2_tflite");
        assertThat(mismatch.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(mismatch.err()).contains("are for mobilenet_v2, not resnet18");
        Run notImage = tuna("predict", model.toString(), dir.resolve("corrupt.tuna/model.json").toString());
        assertThat(notImage.code()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(notImage.err()).contains("model.json");
    }

    @Test
    void exportToOnnxThenPredictAndEvaluateOnOnnxRuntime() throws IOException {
        Path onnx = dir.resolve("model.onnx");
        Run export = tuna("export", model.toString(), "--onnx", onnx.toString());
        assertThat(export.code()).as(export.err()).isZero();
        assertThat(export.out()).contains("Wrote " + onnx, "2 classes", "32 px");
        String image = dir.resolve("test/red/0.png").toString();
        JsonObject libtorch = JsonParser.parseString(tuna("predict", model.toString(), image, "--json").out())
                .getAsJsonObject().getAsJsonArray("predictions").get(0).getAsJsonObject();
        Run onOnnx = tuna("predict", onnx.toString(), image, "--json");
        assertThat(onOnnx.code()).as(onOnnx.err()).isZero();
        JsonObject ort = JsonParser.parseString(onOnnx.out()).getAsJsonObject().getAsJsonArray("predictions").get(0)
                .getAsJsonObject();
        assertThat(ort.get("label")).isEqualTo(libtorch.get("label"));
        assertThat(ort.get("probability").getAsDouble())
                .isCloseTo(libtorch.get("probability").getAsDouble(), org.assertj.core.api.Assertions.within(1e-4));
        JsonObject evaluated = JsonParser.parseString(tuna("evaluate", onnx.toString(), dir.resolve("test").toString(),
                "--json").out()).getAsJsonObject();
        JsonObject reference = JsonParser.parseString(tuna("evaluate", model.toString(),
                dir.resolve("test").toString(), "--json").out()).getAsJsonObject();
        assertThat(evaluated.get("confusion")).isEqualTo(reference.get("confusion"));

        Run again = tuna("export", model.toString(), "--onnx", onnx.toString());
        assertThat(again.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(again.err()).contains("already exists", "--force");
        assertThat(tuna("export", model.toString(), "--onnx", onnx.toString(), "--force").code()).isZero();
        Run notModel = tuna("export", image, "--onnx", dir.resolve("x.onnx").toString());
        assertThat(notModel.code()).isEqualTo(TunaCommand.BAD_INPUT);
        Path bogus = Files.writeString(dir.resolve("bogus.onnx"), "not a model");
        Run bad = tuna("predict", bogus.toString(), image);
        assertThat(bad.code()).isEqualTo(TunaCommand.BAD_INPUT);
        assertThat(bad.err()).contains("bogus.onnx", "ONNX");
    }

    @Test
    void everyCommandHasHelpWithAnExample() {
        for (String command : new String[] {"train", "evaluate", "predict", "export", "lr-find", "describe", "demo"}) {
            Run help = tuna(command, "--help");
            assertThat(help.code()).isZero();
            assertThat(help.out()).as(command).contains("Example");
        }
        // --arch lists every architecture, from the architectures themselves
        String train = tuna("train", "--help").out().replaceAll("\\s+", " ");
        for (dev.tuna.model.Architecture arch : dev.tuna.model.Architecture.values()) {
            assertThat(train).contains(arch.id());
        }
        Run unknown = tuna("train", "data", "--arch", "vgg16");
        assertThat(unknown.code()).isEqualTo(TunaCommand.USAGE);
        assertThat(unknown.err()).contains("convnext_tiny", "efficientnet_b0");
    }
}
