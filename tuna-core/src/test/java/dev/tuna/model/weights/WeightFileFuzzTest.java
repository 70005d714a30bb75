package dev.tuna.model.weights;

import static dev.tuna.model.weights.Fixtures.floats;
import static dev.tuna.model.weights.Fixtures.longs;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tuna.TunaException;
import dev.tuna.model.weights.Fixtures.PickleWriter;
import dev.tuna.model.weights.Fixtures.TorchZip;
import dev.tuna.testing.Fuzzing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the weight file readers with arbitrary bytes (Jazzer): safetensors, {@code torch.save} zip
 * archives, and the pickle inside them. Each read returns tensors whose bytes match their type and
 * shape, or fails with a {@code BAD_MODEL_FILE} {@link TunaException}; nothing else. With
 * {@code JAZZER_FUZZ=1} they fuzz (BENCHMARKS.md, "Fuzzing the parsers"); otherwise they replay the
 * seeds in {@code WeightFileFuzzTestInputs/<method>/}.
 */
class WeightFileFuzzTest {
    /** The storages every {@link #pthPickle} archive holds, which the pickle seeds refer to. */
    private static final byte[] STORAGE_0 = floats(10, 11, 12, 13, 14, 15);
    private static final byte[] STORAGE_1 = longs(7, -7);

    static {
        // load and initialise the classes a read needs before the first timed input
        try {
            for (byte[] seed : safetensorsSeeds().values()) {
                SafetensorsReader.read(Fuzzing.scratchFile("warm-up.safetensors", seed));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (byte[] pickle : pickleSeeds().values()) {
            PthReader.read(Fuzzing.scratchFile("warm-up.pth", new TorchZip("archive", pickle)
                    .storage("0", STORAGE_0).storage("1", STORAGE_1).bytes()));
        }
    }

    /** Whole safetensors files. */
    @FuzzTest
    @Timeout(value = 2, unit = TimeUnit.SECONDS)
    void safetensors(byte[] bytes) {
        Fuzzing.executed("WeightFileFuzzTest#safetensors");
        check(() -> SafetensorsReader.read(Fuzzing.scratchFile("fuzz.safetensors", bytes)));
    }

    /** Whole {@code .pth} files: the zip archive, its entries and the pickle. */
    @FuzzTest
    @Timeout(value = 2, unit = TimeUnit.SECONDS)
    void pthArchive(byte[] bytes) {
        Fuzzing.executed("WeightFileFuzzTest#pthArchive");
        check(() -> PthReader.read(Fuzzing.scratchFile("fuzz.pth", bytes)));
    }

    /**
     * The pickle ({@code data.pkl}) of a well-formed archive that holds two storages: reaches the
     * unpickler and the tensor views without the fuzzer having to repair zip checksums first.
     */
    @FuzzTest
    @Timeout(value = 2, unit = TimeUnit.SECONDS)
    void pthPickle(byte[] pickle) {
        Fuzzing.executed("WeightFileFuzzTest#pthPickle");
        byte[] archive = new TorchZip("archive", pickle).storage("0", STORAGE_0).storage("1", STORAGE_1).bytes();
        check(() -> PthReader.read(Fuzzing.scratchFile("pickle.pth", archive)));
    }

    /** Whatever the bytes, the read gives consistent tensors or a BAD_MODEL_FILE TunaException. */
    private static void check(ReadAction read) {
        WeightFile weights;
        try {
            weights = read.read();
        } catch (TunaException e) {
            Fuzzing.expectDocumented(e, TunaException.Kind.BAD_MODEL_FILE);
            return;
        }
        for (Tensor tensor : weights.tensors().values()) {
            long bytes = Tensor.numel(tensor.shape()) * tensor.dtype().byteSize();
            if (tensor.numel() != Tensor.numel(tensor.shape()) || tensor.data().remaining() != bytes) {
                throw new AssertionError(tensor + " holds " + tensor.data().remaining() + " bytes, expected " + bytes);
            }
        }
    }

    /** A read of one weight file. */
    @FunctionalInterface
    private interface ReadAction {
        WeightFile read();
    }

    /** Every seed reads without error, and is committed in the inputs directories. */
    @Test
    void seedsReadAndAreCommitted() throws IOException {
        Map<String, byte[]> safetensors = safetensorsSeeds();
        Map<String, byte[]> pickles = pickleSeeds();
        Map<String, byte[]> archives = new LinkedHashMap<>();
        pickles.forEach((name, pickle) -> archives.put(name.replace(".pkl", ".pth"),
                new TorchZip("archive", pickle).storage("0", STORAGE_0).storage("1", STORAGE_1).bytes()));
        archives.put("big-endian.pth", new TorchZip("archive", pickles.get("state-dict.pkl"))
                .storage("0", ByteBuffer.allocate(24).putFloat(1).putFloat(2).putFloat(3).putFloat(4).putFloat(5)
                        .putFloat(6).array())
                .storage("1", ByteBuffer.allocate(16).putLong(7).putLong(-7).array())
                .entry("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII)).bytes());
        Fuzzing.syncSeeds(getClass(), "safetensors", safetensors);
        Fuzzing.syncSeeds(getClass(), "pthPickle", pickles);
        Fuzzing.syncSeeds(getClass(), "pthArchive", archives);
        for (Map.Entry<String, byte[]> seed : safetensors.entrySet()) {
            assertThat(SafetensorsReader.read(Fuzzing.scratchFile(seed.getKey(), seed.getValue())).tensors())
                    .as(seed.getKey()).isNotEmpty();
        }
        for (Map.Entry<String, byte[]> seed : archives.entrySet()) {
            assertThat(PthReader.read(Fuzzing.scratchFile(seed.getKey(), seed.getValue())).tensors())
                    .as(seed.getKey()).isNotEmpty();
        }
        assertThat(PthReader.read(Fuzzing.scratchFile("be.pth", archives.get("big-endian.pth"))).tensor("w")
                .toFloats()).containsExactly(1, 2, 3, 4, 5, 6);
    }

    // ---------------------------------------------------------------- findings, kept as regression tests

    /** A storage of 2^62 floats: its byte size overflowed a long, so an empty entry passed for it. */
    @Test
    void refusesStorageWhoseByteSizeOverflows() {
        byte[] pickle = new PickleWriter().proto().orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 1L << 62, 1000, new long[] {1}, new long[] {1})
                .setItems().stop().bytes();
        Path path = Fuzzing.scratchFile("huge-storage.pth", new TorchZip("archive", pickle)
                .storage("0", new byte[0]).bytes());

        Fuzzing.assertRefused(() -> PthReader.read(path), TunaException.Kind.BAD_MODEL_FILE,
                "storage '0' of 4611686018427387904 elements of FloatStorage");
    }

    /**
     * A .pth whose zip directory holds an entry name that is not UTF-8 (the fuzzer's crash-b6196163,
     * kept as finding-zip-name-not-utf8.pth among the seeds): ZipFile opened it, then threw
     * IllegalArgumentException while listing the entries.
     */
    @Test
    void refusesZipEntryNameThatIsNotUtf8() throws IOException {
        byte[] bytes;
        try (var in = getClass().getResourceAsStream("WeightFileFuzzTestInputs/pthArchive/finding-zip-name-not-utf8.pth")) {
            bytes = in.readAllBytes();
        }
        Path path = Fuzzing.scratchFile("latin1.pth", bytes);

        Fuzzing.assertRefused(() -> PthReader.read(path), TunaException.Kind.BAD_MODEL_FILE,
                "is a damaged zip archive: the name of one of its entries is not valid UTF-8");
    }

    /** Safetensors seeds, written by Tuna's {@link SafetensorsWriter}. */
    static Map<String, byte[]> safetensorsSeeds() throws IOException {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("f32-with-metadata.safetensors", written(List.of(
                Tensor.ofFloats("conv.weight", new long[] {2, 1, 2}, new float[] {1, -2, 3.5f, 0}),
                Tensor.ofFloats("conv.bias", new long[] {2}, new float[] {0.25f, -0.5f})), Map.of("format", "pt")));
        seeds.put("mixed-types.safetensors", written(List.of(
                Tensor.of("half", DType.F16, new long[] {2}, new byte[] {0, 0x3c, 0, (byte) 0xc0}),
                Tensor.of("brain", DType.BF16, new long[] {1}, new byte[] {(byte) 0x80, 0x3f}),
                Tensor.of("steps", DType.I64, new long[] {}, longs(42)),
                Tensor.of("mask", DType.BOOL, new long[] {3}, new byte[] {1, 0, 1}),
                Tensor.of("empty", DType.F32, new long[] {0, 4}, new byte[0])), Map.of()));
        return seeds;
    }

    private static byte[] written(List<Tensor> tensors, Map<String, String> metadata) throws IOException {
        Path file = Fuzzing.scratch().resolve("seed.safetensors");
        SafetensorsWriter.write(file, tensors, metadata);
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Pickles as {@code torch.save} writes them (protocol 2), over storage "0" (6 floats) and "1"
     * (2 longs), plus one in protocol 4's framing and short opcodes.
     */
    static Map<String, byte[]> pickleSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("state-dict.pkl", new PickleWriter().proto().orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {3, 1})
                .str("steps").tensor("LongStorage", "1", 2, 0, new long[] {2}, new long[] {1})
                .setItems().stop().bytes());
        seeds.put("views-and-memo.pkl", new PickleWriter().proto().orderedDict().mark()
                .str("transposed").global("torch._utils", "_rebuild_tensor_v2").put(1).mark()
                .storage("FloatStorage", "0", 6).put(2)
                .integer(0).ints(3, 2).ints(1, 3).newFalse().orderedDict().tuple().reduce()
                .str("tail").get(1).mark().get(2)
                .integer(4).ints(2).ints(1).newFalse().orderedDict().tuple().reduce()
                .str("scalar").get(1).mark().get(2)
                .integer(5).ints().ints().newFalse().orderedDict().tuple().reduce()
                .setItems().stop().bytes());
        seeds.put("checkpoint-parameter-metadata.pkl", new PickleWriter().proto().emptyDict().mark()
                .str("epoch").integer(3)
                .str("state_dict").orderedDict().mark()
                .str("weight").global("torch._utils", "_rebuild_parameter").mark()
                .tensor("FloatStorage", "0", 6, 1, new long[] {5}, new long[] {1})
                .newTrue().orderedDict().tuple().reduce()
                .str("note").str("trained on flowers")
                .setItems()
                .emptyDict().str("_metadata").orderedDict().str("").emptyDict().str("version").integer(1).setItem()
                .setItem().setItem().build()
                .str("optimizer").emptyDict()
                .setItems().stop().bytes());
        // protocol 4: FRAME, SHORT_BINUNICODE (0x8c), STACK_GLOBAL (0x93), MEMOIZE (0x94), TUPLE1-3, LONG1
        PickleWriter p4 = new PickleWriter().raw(0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0);
        shortString(p4, "collections");
        p4.raw(0x94);
        shortString(p4, "OrderedDict");
        p4.raw(0x94, 0x93, 0x94).emptyTuple().reduce().raw(0x94).mark();
        shortString(p4, "n");
        shortString(p4, "torch._utils");
        shortString(p4, "_rebuild_tensor_v2");
        p4.raw(0x93, 0x94).mark().mark(); // the arguments, then the persistent id
        shortString(p4, "storage");
        shortString(p4, "torch");
        shortString(p4, "LongStorage");
        p4.raw(0x93);
        shortString(p4, "1");
        shortString(p4, "cpu");
        p4.raw('K', 2).tuple().raw('Q');
        // storage offset 1 as LONG1, size (1,) and stride (1,) as TUPLE1, False, no hooks
        p4.raw(0x8a, 1, 1, 'K', 1, 0x85, 'K', 1, 0x85, 0x89).emptyTuple().tuple().reduce().setItems().stop();
        seeds.put("protocol-4.pkl", p4.bytes());
        return seeds;
    }

    private static void shortString(PickleWriter pickle, String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        pickle.raw(0x8c, utf8.length);
        for (byte b : utf8) {
            pickle.raw(b & 0xff);
        }
    }
}
