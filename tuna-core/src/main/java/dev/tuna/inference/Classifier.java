package dev.tuna.inference;

import ai.djl.ndarray.NDManager;
import dev.tuna.TunaException;
import dev.tuna.data.ImageDecoder;
import dev.tuna.data.UnreadableImageException;
import dev.tuna.model.LoadMode;
import dev.tuna.model.Network;
import dev.tuna.model.weights.WeightFile;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.transform.AugTransforms;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.RgbImage;
import dev.tuna.transform.Tta;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A trained model ready to classify images: loaded from a {@link ModelArtifact} folder (run on libtorch)
 * or from an {@code .onnx} file written by {@link OnnxExport} (run on ONNX Runtime, without libtorch), it
 * applies exactly the input path of training's validation split (decode with EXIF orientation, presize,
 * centre square for {@code crop}, normalise) and returns softmax probabilities. The image pipeline is the
 * same Java code for both runtimes; only the network runs on a different engine
 * ({@link ClassifierOptions#runtime()}).
 *
 * <pre>{@code
 * try (Classifier classifier = Classifier.load(Path.of("pets-model"))) {      // or "pets.onnx"
 *     Prediction p = classifier.predict(Path.of("cat.jpg"));
 *     System.out.println(p.label() + " " + p.probability());
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> One instance may be shared by any number of threads: every call works in its own
 * native memory scope, and the network runs in evaluation mode, which changes no state. Forward
 * passes run concurrently (the PyTorch engine allows concurrent inference on one module, ONNX Runtime
 * concurrent runs of one session); each also uses the engine's own intra-op threads. Do not close the
 * classifier while calls are running.
 *
 * <p>Owns native memory: close it when done.
 */
public final class Classifier implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Classifier.class);

    private final ModelArtifact artifact;
    private final ClassifierOptions options;
    private final ImageDecoder decoder;
    private final InputPipeline pipeline;
    private final ArtifactMetadata metadata;
    private final Normalization normalization;
    private final Tta tta;
    private final InferenceBackend backend;
    private final List<String> classes;
    private volatile boolean closed;

    private Classifier(ModelArtifact artifact, ArtifactMetadata meta, ClassifierOptions options,
            InferenceBackend backend) {
        this.artifact = artifact;
        this.metadata = meta;
        this.options = options;
        this.backend = backend;
        this.classes = meta.classes();
        this.decoder = ImageDecoder.withMaxPixels(options.maxPixels());
        this.pipeline = new InputPipeline(meta.inputSize(), meta.resizeMethod(), meta.padMode(), meta.normalization());
        this.normalization = meta.normalization();
        this.tta = Tta.fastai(AugTransforms.fromTraining(meta.training()));
    }

    /**
     * Loads a model folder or an exported {@code .onnx} file with the default options.
     *
     * @param model the folder written by {@link ModelArtifact#write}, or a file written by {@link OnnxExport}
     * @return the classifier
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) when the path is not a valid
     *     model (see {@link ModelArtifact#read}) or its weights do not fit its description
     */
    public static Classifier load(Path model) {
        return load(model, ClassifierOptions.DEFAULTS);
    }

    /**
     * Loads a model folder or an exported {@code .onnx} file. With {@link ModelRuntime#AUTO} a folder runs on
     * libtorch and a file on ONNX Runtime; {@link ModelRuntime#ONNX_RUNTIME} on a folder exports it in
     * memory first.
     *
     * @param model the folder written by {@link ModelArtifact#write}, or a file written by {@link OnnxExport}
     * @param options the pixel limit, batch size and runtime
     * @return the classifier
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) when the path is not a valid
     *     model (see {@link ModelArtifact#read}, and for ONNX: not an ONNX file, or one without Tuna's
     *     metadata) or its weights do not fit its description; ({@link TunaException.Kind#USAGE}) for an
     *     ONNX file with {@link ModelRuntime#LIBTORCH}
     */
    public static Classifier load(Path model, ClassifierOptions options) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(options, "options");
        boolean file = Files.isRegularFile(model) || !Files.exists(model) && isOnnxName(model);
        ModelRuntime runtime = options.runtime() == ModelRuntime.AUTO
                ? (file ? ModelRuntime.ONNX_RUNTIME : ModelRuntime.LIBTORCH) : options.runtime();
        if (runtime == ModelRuntime.LIBTORCH && file && isOnnxName(model)) {
            throw TunaException.usage(model + " is an ONNX file, which runs on ONNX Runtime; load it with"
                    + " ModelRuntime.AUTO or ONNX_RUNTIME, or pass the model folder it was exported from.");
        }
        if (runtime == ModelRuntime.ONNX_RUNTIME && file) {
            return onOnnxRuntime(null, OrtBackend.open(model, options.threads()), options);
        }
        ModelArtifact artifact = ModelArtifact.read(model);
        ArtifactMetadata meta = artifact.metadata();
        WeightFile weights = WeightFiles.read(artifact.weightsFile());
        if (runtime == ModelRuntime.ONNX_RUNTIME) {
            byte[] onnx;
            try (NDManager manager = NDManager.newBaseManager();
                    Network network = Network.transfer(meta.architecture(), meta.head(), meta.classes().size(),
                            meta.tfSamePadding(), manager, meta.seed())) {
                network.load(weights, LoadMode.STRICT);
                onnx = OnnxExport.toBytes(network, meta);
            }
            return onOnnxRuntime(artifact, OrtBackend.open(model, onnx, options.threads()), options);
        }
        NDManager manager = NDManager.newBaseManager();
        try {
            Network network = Network.transfer(meta.architecture(), meta.head(), meta.classes().size(),
                    meta.tfSamePadding(), manager, meta.seed());
            network.load(weights, LoadMode.STRICT);
            Classifier classifier = new Classifier(artifact, meta, options, new TorchBackend(network, manager));
            classifier.warmUp();
            LOG.debug("loaded {}: {}, {} classes, {} px input", model, meta.architecture().id(),
                    meta.classes().size(), meta.inputSize());
            return classifier;
        } catch (RuntimeException | Error e) {
            manager.close();
            throw e;
        }
    }

    private static boolean isOnnxName(Path model) {
        return model.getFileName() != null
                && model.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".onnx");
    }

    private static Classifier onOnnxRuntime(ModelArtifact artifact, OrtBackend backend, ClassifierOptions options) {
        try {
            Classifier classifier = new Classifier(artifact, backend.metadata(), options, backend);
            classifier.warmUp();
            return classifier;
        } catch (RuntimeException | Error e) {
            backend.close();
            throw e;
        }
    }

    /**
     * A classifier over a network in memory (e.g. a learner's, before export), with the preprocessing
     * and test-time augmentation the metadata describes: the same pipeline {@link #load} gives the
     * exported model. It does not own the network: closing it leaves the network open.
     *
     * @param network the network, with the metadata's architecture, head and classes
     * @param metadata what an export would record
     * @param options the pixel limit and batch size
     * @return the classifier
     */
    public static Classifier view(Network network, ArtifactMetadata metadata, ClassifierOptions options) {
        Objects.requireNonNull(network, "network");
        return new Classifier(null, Objects.requireNonNull(metadata, "metadata"),
                Objects.requireNonNull(options, "options"), new TorchBackend(network, null));
    }

    /** One forward pass on one thread before sharing, so that lazily built engine state exists. */
    private void warmUp() {
        forward(new float[pipeline.floatsPerImage()], 1);
    }

    /**
     * Returns the model's description.
     *
     * @return the metadata read from {@code model.json}
     */
    public ArtifactMetadata metadata() {
        return metadata;
    }

    /**
     * Returns the model folder that was loaded.
     *
     * @return the artifact, or null for a {@link #view} of a network in memory and for an {@code .onnx} file
     */
    public ModelArtifact artifact() {
        return artifact;
    }

    /**
     * Returns the engine the network runs on.
     *
     * @return {@link ModelRuntime#LIBTORCH} or {@link ModelRuntime#ONNX_RUNTIME}
     */
    public ModelRuntime runtime() {
        return backend.runtime();
    }

    /** The network, when it runs on libtorch (for {@link OnnxExport}). */
    java.util.Optional<Network> network() {
        return backend instanceof TorchBackend torch ? java.util.Optional.of(torch.network())
                : java.util.Optional.empty();
    }

    /**
     * Returns the options in force.
     *
     * @return the options
     */
    public ClassifierOptions options() {
        return options;
    }

    /**
     * Returns the class names in output order.
     *
     * @return the classes (unmodifiable)
     */
    public List<String> classes() {
        return classes;
    }

    /**
     * Classifies an image file (any of {@link dev.tuna.data.ImageFormat}, recognised by content).
     *
     * @param image the file
     * @return the prediction
     * @throws InvalidImageException when the file is missing, unreadable, not an image, damaged, or
     *     declares more pixels than the limit
     */
    public Prediction predict(Path image) {
        return predict(image, false);
    }

    /**
     * Classifies an image file, optionally with test-time augmentation ({@link #tta()}).
     *
     * @param image the file
     * @param tta whether to blend in {@link Tta#passes()} augmented views, as fast.ai's {@code tta}
     * @return the prediction
     * @throws InvalidImageException when the file cannot be used (as {@link #predict(Path)})
     */
    public Prediction predict(Path image, boolean tta) {
        Objects.requireNonNull(image, "image");
        return predictSquares(List.of(pipeline.square(decode(image))), tta).get(0);
    }

    /**
     * Returns the test-time augmentation of this model: fast.ai's 4 passes under the transforms it was
     * trained with (as recorded in the artifact; random flips when it had none), blended 0.75 / 0.25 with
     * the plain prediction. The same image gets the same views as in {@code Learner.evaluate(folder, true)}.
     *
     * @return the policy
     */
    public Tta tta() {
        return tta;
    }

    /**
     * Classifies an encoded image held in memory.
     *
     * @param encoded the bytes of an image file (any of {@link dev.tuna.data.ImageFormat})
     * @return the prediction
     * @throws InvalidImageException when the bytes are not a readable image or declare more pixels
     *     than the limit
     */
    public Prediction predict(byte[] encoded) {
        return predictPrepared(List.of(prepare(encoded))).get(0);
    }

    /**
     * Classifies a decoded image. Its pixels are taken as sRGB (gray as is), with transparency
     * composited over white, as for files.
     *
     * @param image the image
     * @return the prediction
     * @throws InvalidImageException when the image has more pixels than the limit (it is refused
     *     before any copy of its pixels is made)
     */
    public Prediction predict(BufferedImage image) {
        return predictPrepared(List.of(prepare(image))).get(0);
    }

    /**
     * Decodes an encoded image and resizes it for this model's network, as {@link #predict(byte[])}
     * does, without running the network: the first half of a prediction, for callers that batch
     * images from many sources themselves ({@link #predictPrepared}).
     *
     * @param encoded the bytes of a JPEG, PNG, BMP, GIF or WebP file
     * @return the network-sized image
     * @throws InvalidImageException when the bytes are not a readable image or declare more pixels
     *     than the limit
     */
    public PreparedImage prepare(byte[] encoded) {
        Objects.requireNonNull(encoded, "encoded");
        return new PreparedImage(pipeline.square(decode(encoded)));
    }

    /**
     * Resizes a decoded image for this model's network, as {@link #predict(BufferedImage)} does,
     * without running the network.
     *
     * @param image the image
     * @return the network-sized image
     * @throws InvalidImageException when the image has more pixels than the limit
     */
    public PreparedImage prepare(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        try {
            decoder.checkPixelBudget(image.getWidth(), image.getHeight());
        } catch (UnreadableImageException e) {
            throw invalid("the image", e);
        }
        return new PreparedImage(pipeline.square(InputPipeline.toRgb(image)));
    }

    /**
     * Classifies prepared images, {@link ClassifierOptions#batchSize()} at a time through the network;
     * each gets the prediction {@link #predict(byte[])} gives its bytes (equal up to the rounding
     * of batched kernels).
     *
     * @param images images from {@link #prepare(byte[])} of a classifier with this input size
     * @return one prediction per image, in the same order
     * @throws TunaException ({@link TunaException.Kind#USAGE}) when an image was prepared for another
     *     input size
     */
    public List<Prediction> predictPrepared(List<PreparedImage> images) {
        List<RgbImage> squares = new ArrayList<>(images.size());
        for (PreparedImage image : images) {
            if (image.size() != pipeline.size()) {
                throw TunaException.usage("This image was prepared for a " + image.size() + " px network; this"
                        + " model takes " + pipeline.size() + " px. Prepare it with this model's classifier.");
            }
            squares.add(image.square());
        }
        List<Prediction> out = new ArrayList<>(squares.size());
        for (int from = 0; from < squares.size(); from += options.batchSize()) {
            out.addAll(predictSquares(squares.subList(from, Math.min(squares.size(), from + options.batchSize())),
                    false));
        }
        return out;
    }

    /**
     * Classifies many image files, decoding them in parallel and running the network on
     * {@link ClassifierOptions#batchSize()} images at a time.
     *
     * @param images the files
     * @return one prediction per file, in the same order
     * @throws InvalidImageException for the first file (in list order) that cannot be used; no
     *     predictions are returned then
     */
    public List<Prediction> predictBatch(List<Path> images) {
        return predictBatch(images, false);
    }

    /**
     * Like {@link #predictBatch(List)}, optionally with test-time augmentation ({@link #tta()}).
     *
     * @param images the files
     * @param tta whether to blend in augmented views
     * @return one prediction per file, in the same order
     * @throws InvalidImageException for the first file (in list order) that cannot be used
     */
    public List<Prediction> predictBatch(List<Path> images, boolean tta) {
        List<Path> paths = List.copyOf(images);
        List<Prediction> out = new ArrayList<>(paths.size());
        for (int from = 0; from < paths.size(); from += options.batchSize()) {
            Decoded chunk = decodeChunk(paths, from, Math.min(paths.size(), from + options.batchSize()), this::decode);
            for (RuntimeException failure : chunk.failures()) {
                if (failure != null) {
                    throw failure;
                }
            }
            out.addAll(predictSquares(List.of(chunk.squares()), tta));
        }
        return out;
    }

    /**
     * Like {@link #predictBatch(List, boolean)}, but a file that cannot be used does not fail the call:
     * it gets a {@link FilePrediction} with the reason, and the other files of its batch are predicted
     * as usual. Decoding runs in parallel, the network on {@link ClassifierOptions#batchSize()} readable
     * images at a time; the results equal {@link #predict(Path, boolean)}'s for each file.
     *
     * @param images the files
     * @param tta whether to blend in augmented views ({@link #tta()})
     * @return one result per file, in the same order
     */
    public List<FilePrediction> predictEach(List<Path> images, boolean tta) {
        List<Path> paths = List.copyOf(images);
        List<Outcome<Prediction>> outcomes = each(paths, this::decode, squares -> predictSquares(squares, tta));
        List<FilePrediction> out = new ArrayList<>(paths.size());
        for (int i = 0; i < paths.size(); i++) {
            Outcome<Prediction> o = outcomes.get(i);
            out.add(o.ok() ? FilePrediction.of(paths.get(i), o.value())
                    : FilePrediction.failed(paths.get(i), o.error().reason()));
        }
        return out;
    }

    /**
     * What a batched call gives for one input: a value, or the reason the input could not be used.
     *
     * @param value the result, or null when the input was refused
     * @param error why the input was refused, or null when it was used
     * @param <T> the kind of result
     */
    public record Outcome<T>(T value, InvalidImageException error) {
        /**
         * Checks that exactly one of the two is present.
         *
         * @param value the result
         * @param error the reason for a refusal
         */
        public Outcome {
            if ((value == null) == (error == null)) {
                throw new IllegalArgumentException("an outcome has either a value or an error");
            }
        }

        /**
         * Whether the input was used.
         *
         * @return true when {@link #value()} is present
         */
        public boolean ok() {
            return error == null;
        }
    }

    /**
     * Classifies many encoded images held in memory (e.g. files read by a data-processing framework),
     * decoding them in parallel and running the network on {@link ClassifierOptions#batchSize()} images
     * at a time. Unlike {@link #predictBatch(List)}, an image that cannot be used does not stop the
     * others: its outcome carries the reason.
     *
     * @param encoded image files' bytes (any format {@link dev.tuna.data.ImageFormat} recognises)
     * @return one outcome per input, in the same order
     */
    public List<Outcome<Prediction>> predictEach(List<byte[]> encoded) {
        return each(List.copyOf(encoded), this::decode, squares -> predictSquares(squares, false));
    }

    /**
     * The pooled body features of many encoded images: the body in evaluation mode on exactly the input
     * {@link #predict(byte[])} would use, then the head's concat pooling; the rows a Keras-style frozen
     * phase trains the head on ({@code Learner.pooledFeatures}). Decoded in parallel, run
     * {@link ClassifierOptions#batchSize()} images at a time; an unusable image gets its reason. A short
     * batch is padded to the full batch size, so an image's features do not depend on the other inputs of
     * the call; they equal {@code Learner.pooledFeatures}'s for a loader of the same batch size.
     *
     * @param encoded image files' bytes (any format {@link dev.tuna.data.ImageFormat} recognises)
     * @return one outcome per input, in the same order: {@code 2 × body channels} floats each
     */
    public List<Outcome<float[]>> featuresEach(List<byte[]> encoded) {
        return each(List.copyOf(encoded), this::decode, squares -> {
            int n = squares.size();
            if (closed) {
                throw TunaException.usage("This classifier is closed; load the model again.");
            }
            // always a full batch (the last image repeated): libtorch picks kernels by shape, and a lone
            // image's features differ from a batch's by ~2e-5; a fixed shape makes them independent of
            // which images (and how many) shared the call, as Learner.pooledFeatures does
            int floats = pipeline.floatsPerImage();
            int padded = Math.max(n, options.batchSize());
            float[] input = new float[padded * floats];
            IntStream.range(0, n).parallel().forEach(i -> pipeline.normalize(squares.get(i), input, i * floats));
            for (int i = n; i < padded; i++) {
                System.arraycopy(input, (n - 1) * floats, input, i * floats, floats);
            }
            float[] values = backend.pooledFeatures(input, padded, pipeline.size());
            int dimension = values.length / padded;
            List<float[]> rows = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                rows.add(java.util.Arrays.copyOfRange(values, i * dimension, (i + 1) * dimension));
            }
            return rows;
        });
    }

    /**
     * Decodes in parallel batch by batch, runs {@code compute} on each batch's usable squares, and merges
     * in the refusals: an input that is not a usable image gets its {@link InvalidImageException}; any
     * other failure is thrown.
     */
    private <S, T> List<Outcome<T>> each(List<S> inputs, Function<S, RgbImage> decode,
            Function<List<RgbImage>, List<T>> compute) {
        List<Outcome<T>> out = new ArrayList<>(inputs.size());
        for (int from = 0; from < inputs.size(); from += options.batchSize()) {
            int to = Math.min(inputs.size(), from + options.batchSize());
            Decoded chunk = decodeChunk(inputs, from, to, decode);
            List<RgbImage> usable = new ArrayList<>(to - from);
            for (RgbImage square : chunk.squares()) {
                if (square != null) {
                    usable.add(square);
                }
            }
            Iterator<T> results = usable.isEmpty() ? Collections.emptyIterator() : compute.apply(usable).iterator();
            for (RuntimeException failure : chunk.failures()) {
                if (failure == null) {
                    out.add(new Outcome<>(results.next(), null));
                } else if (failure instanceof InvalidImageException invalid) {
                    out.add(new Outcome<>(null, invalid));
                } else {
                    throw failure;
                }
            }
        }
        return out;
    }

    /** Decoded, network-sized images of {@code inputs[from, to)}, or the failure of each that could not be. */
    private record Decoded(RgbImage[] squares, RuntimeException[] failures) {
    }

    private <S> Decoded decodeChunk(List<S> inputs, int from, int to, Function<S, RgbImage> decode) {
        int n = to - from;
        RgbImage[] squares = new RgbImage[n];
        RuntimeException[] failures = new RuntimeException[n];
        IntStream.range(0, n).parallel().forEach(i -> {
            try {
                squares[i] = pipeline.square(decode.apply(inputs.get(from + i)));
            } catch (RuntimeException e) {
                failures[i] = e;
            }
        });
        return new Decoded(squares, failures);
    }

    /** Predicts network-sized images, plain or blended with the test-time augmentation's views. */
    private List<Prediction> predictSquares(List<RgbImage> squares, boolean augment) {
        int n = squares.size();
        int floats = pipeline.floatsPerImage();
        int size = pipeline.size();
        float[] input = new float[n * floats];
        IntStream.range(0, n).parallel().forEach(i -> pipeline.normalize(squares.get(i), input, i * floats));
        float[][] plain = forward(input, n);
        if (augment) {
            float[][] lut = normalization.lookupTable();
            float[][][] views = new float[tta.passes()][][];
            for (int pass = 0; pass < views.length; pass++) {
                int p = pass;
                IntStream.range(0, n).parallel().forEach(i -> tta.view(squares.get(i).pixels(), size, size, size, p,
                        normalization, lut, input, i * floats));
                views[pass] = forward(input, n);
            }
            plain = tta.blend(plain, views);
        }
        List<Prediction> out = new ArrayList<>(n);
        for (float[] p : plain) {
            out.add(Prediction.of(classes, p));
        }
        return out;
    }

    private RgbImage decode(Path image) {
        try {
            return decoder.decode(image);
        } catch (UnreadableImageException e) {
            throw invalid(image.toString(), e);
        }
    }

    private RgbImage decode(byte[] encoded) {
        try {
            return decoder.decode(encoded);
        } catch (UnreadableImageException e) {
            throw invalid("the image bytes", e);
        }
    }

    private InvalidImageException invalid(String source, UnreadableImageException e) {
        String reason = e.getMessage();
        String hint = reason.toLowerCase(Locale.ROOT).startsWith("image too large")
                ? String.format(Locale.ROOT, "Expected at most %,d pixels; shrink the image, or raise the limit"
                        + " (ClassifierOptions.withMaxPixels) if you trust it.", options.maxPixels())
                : "Expected a readable " + dev.tuna.data.ImageFormat.NAMES + " image; check the file, or re-save"
                        + " it in one of these formats.";
        return new InvalidImageException(source, reason, hint, e);
    }

    /** Runs the network on {@code n} normalised images: their class probabilities. */
    private float[][] forward(float[] input, int n) {
        if (closed) {
            throw TunaException.usage("This classifier is closed; load the model again.");
        }
        return backend.probabilities(input, n, pipeline.size());
    }

    /** Frees the network's native memory. Calls still running must finish first. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            backend.close();
        }
    }
}
