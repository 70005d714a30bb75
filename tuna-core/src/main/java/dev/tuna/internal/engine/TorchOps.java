package dev.tuna.internal.engine;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.training.GradientCollector;
import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libtorch operations that DJL 0.36 does not bind, called through libtorch's own exported C++ entry
 * points. There is one: {@code hardtanh(x, 0, 6)}, i.e. ReLU6 as a single kernel whose backward is a
 * single masked copy. DJL offers only {@code clamp} (whose backward builds boolean masks) or
 * compositions of ReLUs, and MobileNetV2's 35 ReLU6 layers made those a quarter of a training step.
 *
 * <p>Calling C++ from Java directly depends on the platform's C++ ABI and on libtorch's internal
 * layouts, so the binding is only made where both are known: Linux on x86-64 (System V calling
 * convention, Itanium name mangling), the libtorch version this class was written against, and after
 * a self-check of values and gradients on a small tensor. Anywhere else, or with
 * {@code -Dtuna.native-ops=false}, {@link #available()} is false and callers use their DJL-only path;
 * {@link #status()} says why. A libtorch error inside the call cannot become a Java exception (it
 * would abort the process), so callers pass only defined floating-point tensors, for which hardtanh
 * has no failure mode other than running out of memory.
 */
public final class TorchOps {
    private static final Logger LOG = LoggerFactory.getLogger(TorchOps.class);
    /** The libtorch version whose {@code c10::Scalar} layout {@link #scalar} writes. */
    static final String SUPPORTED_LIBTORCH = "2.7.1";

    private TorchOps() {}

    /**
     * Whether {@link #relu6} can be used in this process. The first call binds and self-checks, which
     * takes a gradient collector of its own: make it outside training steps (DJL allows one collector
     * at a time; inside one the self-check fails and the binding stays off).
     *
     * @return true when the binding is made and passed its self-check
     */
    public static boolean available() {
        return Binding.INSTANCE.hardtanh != null;
    }

    /**
     * Says whether the native operations are in use, and if not, why not.
     *
     * @return a one-line status
     */
    public static String status() {
        return Binding.INSTANCE.status;
    }

    /**
     * {@code min(max(x, 0), 6)} as libtorch's {@code hardtanh}: one kernel forward, and a backward that
     * passes the gradient where {@code 0 < x < 6}. Autograd records it like any DJL operation.
     *
     * @param x a defined float32 tensor
     * @return a new array, attached to {@code x}'s manager
     * @throws IllegalStateException when {@link #available()} is false
     * @throws IllegalArgumentException when {@code x} is not a float32 PyTorch array
     */
    public static NDArray relu6(NDArray x) {
        Binding binding = Binding.INSTANCE;
        if (binding.hardtanh == null) {
            throw new IllegalStateException("native ReLU6 is not available: " + binding.status);
        }
        if (!(x instanceof PtNDArray pt) || x.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("native ReLU6 takes float32 PyTorch arrays; got " + x.getDataType());
        }
        return binding.hardtanh(pt);
    }

    /** Resolved once, on first use. */
    private static final class Binding {
        static final Binding INSTANCE = new Binding();

        final Function hardtanh;
        final String status;
        private Function operatorNew;
        private Memory zero;
        private Memory six;

        private Binding() {
            Function op = null;
            String why;
            try {
                why = unsupportedReason();
                if (why == null) {
                    NativeLibrary torch = libtorch();
                    // at::_ops::hardtanh::call(const at::Tensor&, const c10::Scalar&, const c10::Scalar&)
                    op = torch.getFunction("_ZN2at4_ops8hardtanh4callERKNS_6TensorERKN3c106ScalarES8_");
                    // ::operator new(size_t): DJL releases its tensor handles with delete
                    operatorNew = NativeLibrary.getProcess().getFunction("_Znwm");
                    zero = scalar(0);
                    six = scalar(6);
                    why = selfCheck(op);
                }
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                why = "libtorch's hardtanh could not be bound (" + e.getMessage() + ")";
            }
            this.hardtanh = why == null ? op : null;
            this.status = why == null ? "native ReLU6 in use (libtorch hardtanh)" : "native ReLU6 off: " + why;
            LOG.debug(status);
        }

        NDArray hardtanh(PtNDArray x) {
            return call(hardtanh, x);
        }

        private NDArray call(Function op, PtNDArray x) {
            // at::Tensor is returned through a caller-provided slot (System V sret, first argument);
            // the slot is a heap torch::Tensor, which is what a DJL handle is.
            Pointer slot = operatorNew.invokePointer(new Object[] {8L});
            op.invokeVoid(new Object[] {slot, new Pointer(x.getHandle()), zero, six});
            return new PtNDArray(x.getManager(), Pointer.nativeValue(slot));
        }

        /** Values and gradients on a small tensor, against the definition; null when they agree. */
        private String selfCheck(Function op) {
            float[] input = {-2f, -0f, 0.5f, 3f, 5.75f, 6.5f, 100f};
            float[] expected = {0f, 0f, 0.5f, 3f, 5.75f, 6f, 6f};
            float[] gradient = {0f, 0f, 1f, 1f, 1f, 0f, 0f};
            try (NDManager manager = NDManager.newBaseManager(null, "PyTorch")) {
                NDArray x = manager.create(input);
                x.setRequiresGradient(true);
                float[] values;
                try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                    NDArray y = call(op, (PtNDArray) x);
                    values = y.toFloatArray();
                    collector.backward(y.sum());
                }
                float[] grad = x.getGradient().toFloatArray();
                for (int i = 0; i < input.length; i++) {
                    if (values[i] != expected[i] || grad[i] != gradient[i]) {
                        return String.format(Locale.ROOT, "self-check failed at %s: value %s (expected %s),"
                                + " gradient %s (expected %s)", input[i], values[i], expected[i], grad[i], gradient[i]);
                    }
                }
                return null;
            }
        }
    }

    /** Null when this platform and libtorch are the ones the binding was written for. */
    private static String unsupportedReason() {
        if ("false".equalsIgnoreCase(System.getProperty("tuna.native-ops", "true"))) {
            return "turned off by -Dtuna.native-ops=false";
        }
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.startsWith("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "only bound on Linux x86-64 (this is " + os + " " + arch + ")";
        }
        String version = Engine.getEngine("PyTorch").getVersion();
        if (!SUPPORTED_LIBTORCH.equals(version)) {
            return "libtorch " + version + " is not the version the binding was checked against ("
                    + SUPPORTED_LIBTORCH + ")";
        }
        return null;
    }

    /**
     * A {@code c10::Scalar} holding a double, as libtorch 2.7.1 lays it out: the tag (0 for double)
     * in the first 4 bytes, the 16-byte-aligned value union at offset 16, 32 bytes in all.
     */
    static Memory scalar(double value) {
        Memory memory = new Memory(32);
        memory.clear();
        memory.setInt(0, 0);
        memory.setDouble(16, value);
        return memory;
    }

    /**
     * The libtorch_cpu.so that DJL loaded (from its engine cache), for calling what DJL does not bind.
     *
     * @return the library, as JNA sees it
     * @throws IllegalStateException when it is not mapped into this process (or not on Linux)
     */
    public static NativeLibrary libtorch() {
        Engine.getEngine("PyTorch");
        return NativeLibrary.getInstance(libtorchPath());
    }

    /** The path of libtorch_cpu.so, found in this process's mappings. */
    private static String libtorchPath() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.endsWith("/libtorch_cpu.so")) {
                    return line.substring(slash);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/maps: " + e.getMessage(), e);
        }
        throw new IllegalStateException("libtorch_cpu.so is not mapped into this process");
    }
}
