package dev.tuna.model.weights;

import static dev.tuna.model.weights.Fixtures.floats;
import static dev.tuna.model.weights.Fixtures.halves;
import static dev.tuna.model.weights.Fixtures.longs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tuna.TunaException;
import dev.tuna.model.weights.Fixtures.PickleWriter;
import dev.tuna.model.weights.Fixtures.TorchZip;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PthReaderTest {
    @TempDir
    Path dir;

    /** An OrderedDict state dict, opened: write entries, then {@link #endStateDict}. */
    private static PickleWriter stateDict() {
        return new PickleWriter().proto().orderedDict().mark();
    }

    private static byte[] endStateDict(PickleWriter pickle) {
        return pickle.setItems().stop().bytes();
    }

    private static final long[] SCALAR = {};

    private Path file(String name, TorchZip zip) {
        return zip.write(dir.resolve(name));
    }

    private static void assertBadModelFile(Throwable e) {
        assertThat(e).isInstanceOf(TunaException.class);
        assertThat(((TunaException) e).kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE);
    }

    @Test
    void readsFloat32StateDictInFileOrder() {
        byte[] pickle = endStateDict(stateDict()
                .str("fc.weight").tensor("FloatStorage", "0", 4, 0, new long[] {2, 2}, new long[] {2, 1})
                .str("fc.bias").tensor("FloatStorage", "1", 2, 0, new long[] {2}, new long[] {1}));
        Path path = file("model.pth", new TorchZip("archive", pickle)
                .storage("0", floats(1f, 2f, 3f, 4f)).storage("1", floats(-0.5f, 0.25f)));

        WeightFile weights = PthReader.read(path);

        assertThat(weights.format()).isEqualTo(WeightFile.Format.PTH);
        assertThat(weights.tensors().keySet()).containsExactly("fc.weight", "fc.bias");
        Tensor weight = weights.tensor("fc.weight");
        assertThat(weight.dtype()).isEqualTo(DType.F32);
        assertThat(weight.shape()).containsExactly(2, 2);
        assertThat(weight.toFloats()).containsExactly(1f, 2f, 3f, 4f);
        assertThat(weights.tensor("fc.bias").toFloats()).containsExactly(-0.5f, 0.25f);
        assertThat(weights.stateDictKey()).isEmpty();
        assertThat(weights.skipped()).isEmpty();
        assertThat(weights.metadata()).isEmpty();
    }

    @Test
    void acceptsAnyTopFolderName() {
        byte[] pickle = endStateDict(stateDict()
                .str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}));
        Path path = file("resnet18-f37072fd.pth", new TorchZip("resnet18-f37072fd", pickle).storage("0", floats(7f)));

        assertThat(PthReader.read(path).tensor("w").toFloats()).containsExactly(7f);
    }

    @Test
    void convertsFloat16ValuesExactly() {
        byte[] pickle = endStateDict(stateDict()
                .str("h").tensor("HalfStorage", "0", 5, 0, new long[] {5}, new long[] {1}));
        Path path = file("half.pth", new TorchZip("archive", pickle)
                .storage("0", halves(0x3C00, 0xC100, 0x7BFF, 0x0001, 0x8000)));

        Tensor half = PthReader.read(path).tensor("h");

        assertThat(half.dtype()).isEqualTo(DType.F16);
        assertThat(half.toFloats()).containsExactly(1.0f, -2.5f, 65504f, 0x1p-24f, -0.0f);
    }

    @Test
    void readsInt64ScalarAsZeroDimensionalTensor() {
        byte[] pickle = endStateDict(stateDict()
                .str("bn.num_batches_tracked").tensor("LongStorage", "0", 1, 0, SCALAR, SCALAR)
                .str("big").tensor("LongStorage", "1", 2, 0, new long[] {2}, new long[] {1}));
        Path path = file("bn.pth", new TorchZip("archive", pickle)
                .storage("0", longs(42)).storage("1", longs(1L << 40, -3)));

        WeightFile weights = PthReader.read(path);

        Tensor tracked = weights.tensor("bn.num_batches_tracked");
        assertThat(tracked.dtype()).isEqualTo(DType.I64);
        assertThat(tracked.rank()).isZero();
        assertThat(tracked.numel()).isEqualTo(1);
        assertThat(tracked.toLongs()).containsExactly(42L);
        assertThat(weights.tensor("big").toLongs()).containsExactly(1L << 40, -3L);
    }

    @Test
    void materialisesNonContiguousTensorInCOrder() {
        // A 2x3 view with strides (1, 2) of storage [0..5]: element [i][j] is storage[i + 2j].
        byte[] pickle = endStateDict(stateDict()
                .str("t").tensor("FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {1, 2}));
        Path path = file("t.pth", new TorchZip("archive", pickle).storage("0", floats(0, 1, 2, 3, 4, 5)));

        Tensor t = PthReader.read(path).tensor("t");

        assertThat(t.shape()).containsExactly(2, 3);
        assertThat(t.toFloats()).containsExactly(0, 2, 4, 1, 3, 5);
    }

    @Test
    void honoursStorageOffsetWithAndWithoutStrides() {
        byte[] pickle = endStateDict(stateDict()
                .str("rows").tensor("FloatStorage", "0", 10, 3, new long[] {2, 2}, new long[] {2, 1})
                .str("columns").tensor("FloatStorage", "0", 10, 1, new long[] {2, 2}, new long[] {1, 3}));
        Path path = file("offset.pth", new TorchZip("archive", pickle)
                .storage("0", floats(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)));

        WeightFile weights = PthReader.read(path);

        assertThat(weights.tensor("rows").toFloats()).containsExactly(3, 4, 5, 6);
        assertThat(weights.tensor("columns").toFloats()).containsExactly(1, 4, 2, 5);
    }

    @Test
    void materialisesThreeDimensionalPermutation() {
        // Storage [0..7] seen as shape (2, 2, 2) with strides (1, 2, 4): element [i][j][k] = i + 2j + 4k.
        byte[] pickle = endStateDict(stateDict()
                .str("p").tensor("FloatStorage", "0", 8, 0, new long[] {2, 2, 2}, new long[] {1, 2, 4}));
        Path path = file("p.pth", new TorchZip("archive", pickle).storage("0", floats(0, 1, 2, 3, 4, 5, 6, 7)));

        float[] expected = new float[8];
        int n = 0;
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                for (int k = 0; k < 2; k++) {
                    expected[n++] = i + 2 * j + 4 * k;
                }
            }
        }
        assertThat(PthReader.read(path).tensor("p").toFloats()).containsExactly(expected);
    }

    @Test
    void givesTensorsSharingOneStorageTheirOwnViews() {
        PickleWriter pickle = stateDict()
                .str("whole").global("torch._utils", "_rebuild_tensor_v2").put(1).mark()
                .storage("FloatStorage", "0", 6).put(2)
                .integer(0).ints(6).ints(1).newFalse().orderedDict().tuple().reduce()
                .str("tail").get(1).mark().get(2) // the same storage again, through the memo
                .integer(4).ints(2).ints(1).newFalse().orderedDict().tuple().reduce();
        Path path = file("shared.pth", new TorchZip("archive", endStateDict(pickle))
                .storage("0", floats(10, 11, 12, 13, 14, 15)));

        WeightFile weights = PthReader.read(path);

        assertThat(weights.tensor("whole").toFloats()).containsExactly(10, 11, 12, 13, 14, 15);
        assertThat(weights.tensor("tail").toFloats()).containsExactly(14, 15);
    }

    @Test
    void unwrapsParametersAndIgnoresStateDictMetadata() {
        PickleWriter pickle = stateDict()
                .str("weight").global("torch._utils", "_rebuild_parameter").mark()
                .tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1})
                .newTrue().orderedDict().tuple().reduce()
                .setItems()
                // state_dict()._metadata = OrderedDict({'': {'version': 1}}), restored by BUILD
                .emptyDict().str("_metadata").orderedDict().str("").emptyDict().str("version").integer(1).setItem()
                .setItem().setItem().build();
        Path path = file("param.pth", new TorchZip("archive", pickle.stop().bytes()).storage("0", floats(1, 2)));

        WeightFile weights = PthReader.read(path);

        assertThat(weights.tensors().keySet()).containsExactly("weight");
        assertThat(weights.tensor("weight").toFloats()).containsExactly(1, 2);
    }

    @Test
    void findsStateDictInsideCheckpointAndReportsSkippedEntries() {
        PickleWriter pickle = new PickleWriter().proto().emptyDict().mark()
                .str("epoch").integer(3)
                .str("state_dict").orderedDict().mark()
                .str("fc.bias").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .str("note").str("trained on flowers")
                .setItems()
                .str("optimizer").emptyDict()
                .setItems();
        Path path = file("checkpoint.pth", new TorchZip("archive", pickle.stop().bytes()).storage("0", floats(9)));

        WeightFile weights = PthReader.read(path);

        assertThat(weights.stateDictKey()).contains("state_dict");
        assertThat(weights.tensors().keySet()).containsExactly("fc.bias");
        assertThat(weights.skipped()).containsEntry("note", "a str ('trained on flowers')").hasSize(1);
    }

    @Test
    void findsStateDictUnderModelKey() {
        PickleWriter pickle = new PickleWriter().proto().emptyDict()
                .str("model").emptyDict()
                .str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}).setItem()
                .setItem();
        Path path = file("ckpt.pth", new TorchZip("archive", pickle.stop().bytes()).storage("0", floats(5)));

        WeightFile weights = PthReader.read(path);

        assertThat(weights.stateDictKey()).contains("model");
        assertThat(weights.tensor("w").toFloats()).containsExactly(5);
    }

    @Test
    void readsBigEndianArchives() {
        byte[] pickle = endStateDict(stateDict()
                .str("w").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1}));
        byte[] bigEndian = ByteBuffer.allocate(8).putFloat(1.5f).putFloat(-2f).array();
        Path path = file("be.pth", new TorchZip("archive", pickle).storage("0", bigEndian)
                .entry("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII)));

        assertThat(PthReader.read(path).tensor("w").toFloats()).containsExactly(1.5f, -2f);
    }

    @Test
    void rejectsLegacyFormatWithHowToResave() {
        byte[] legacy = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
            0x6a, (byte) 0xa8, 0x50, 0x19, 0x2e, (byte) 0x80, 0x02, 0x4d, (byte) 0xe9, 0x03, 0x2e};
        Path path = Fixtures.write(dir.resolve("old.pth"), legacy);

        assertThatThrownBy(() -> PthReader.read(path))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessage(path + " was saved by PyTorch < 1.6 (legacy format); re-save it with a newer PyTorch:"
                        + " torch.save(torch.load(f), f2)");
    }

    @Test
    void rejectsTorchScriptArchive() {
        byte[] pickle = endStateDict(stateDict());
        Path path = file("scripted.pt", new TorchZip("scripted", pickle)
                .entry("scripted/constants.pkl", new PickleWriter().proto().emptyTuple().stop().bytes())
                .entry("scripted/code/__torch__.py", "class Net: ...".getBytes(StandardCharsets.UTF_8)));

        assertThatThrownBy(() -> PthReader.read(path))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessageContaining("is a TorchScript archive (saved with torch.jit.save)")
                .hasMessageContaining("torch.save(torch.jit.load(f).state_dict(), 'weights.pth')");
    }

    @Test
    void refusesUnknownGlobalAndNamesIt() {
        byte[] pickle = new PickleWriter().proto().global("os", "system").mark().str("echo hi").tuple().reduce()
                .stop().bytes();
        Path path = file("evil.pth", new TorchZip("archive", pickle));

        assertThatThrownBy(() -> PthReader.read(path))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessageContaining("refers to the Python global 'os.system', which Tuna does not load")
                .hasMessageContaining("torch.save(model.state_dict(), 'weights.pth')");
    }

    @Test
    void refusesWholePickledModel() {
        byte[] pickle = new PickleWriter().proto().global("torchvision.models.resnet", "ResNet").put(0)
                .stop().bytes();
        Path path = file("model.pth", new TorchZip("archive", pickle));

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessageContaining("'torchvision.models.resnet.ResNet'")
                .hasMessageContaining("a whole model saved with torch.save(model)");
    }

    @Test
    void reportsTruncatedZip() throws Exception {
        byte[] pickle = endStateDict(stateDict()
                .str("w").tensor("FloatStorage", "0", 64, 0, new long[] {64}, new long[] {1}));
        byte[] whole = new TorchZip("archive", pickle).storage("0", floats(new float[64])).bytes();
        Path path = Fixtures.write(dir.resolve("cut.pth"), Arrays.copyOf(whole, whole.length / 2));

        assertThatThrownBy(() -> PthReader.read(path))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessageStartingWith(path + " starts like a zip archive (a torch.save file) but cannot be read")
                .hasMessageContaining("truncated or damaged");
    }

    @Test
    void reportsTruncatedPickle() {
        byte[] pickle = endStateDict(stateDict()
                .str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}));
        Path path = file("cut.pth", new TorchZip("archive", Arrays.copyOf(pickle, 40)).storage("0", floats(1)));

        assertThatThrownBy(() -> PthReader.read(path))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessageStartingWith(path + " (entry archive/data.pkl): the pickled data is corrupt at byte")
                .hasMessageContaining("the data ends after 40 bytes");
    }

    @Test
    void rejectsEveryTruncatedPickleAndNeverCrashesOnADamagedOne() {
        PickleWriter writer = stateDict()
                .str("a").tensor("FloatStorage", "0", 6, 1, new long[] {2, 2}, new long[] {1, 3})
                .str("b").global("torch._utils", "_rebuild_parameter").mark()
                .tensor("LongStorage", "1", 1, 0, SCALAR, SCALAR).newTrue().orderedDict().tuple().reduce();
        byte[] pickle = endStateDict(writer);
        Random random = new Random(42);
        for (int i = 0; i < pickle.length; i += 2) { // every other byte keeps the test fast
            byte[] cut = Arrays.copyOf(pickle, i + 1);
            byte[] damaged = pickle.clone();
            damaged[i] = (byte) random.nextInt(256);
            for (byte[] variant : new byte[][] {cut, damaged}) {
                // the zip's checksums are computed over the variant: only the unpickler can object
                Path path = file("fuzz.pth", new TorchZip("archive", variant)
                        .storage("0", floats(0, 1, 2, 3, 4, 5)).storage("1", longs(7)));
                boolean whole = Arrays.equals(variant, pickle);
                try {
                    PthReader.read(path);
                    // a damaged byte can spell another valid pickle (a key 'q' for 'a'); the zip checksum
                    // catches that in a real file (rejectsOrReadsExactlyEveryDamagedOrTruncatedFile)
                    assertThat(variant != cut || whole).as("pickle cut after %d of %d bytes was accepted",
                            variant.length, pickle.length).isTrue();
                } catch (TunaException e) {
                    assertThat(whole).as("the intact pickle was rejected: %s", e.getMessage()).isFalse();
                    assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE);
                    assertThat(e.getMessage()).startsWith(path.toString());
                }
            }
        }
    }

    /**
     * Damages a whole torch.save file, as a disk or a download would: every prefix of it and every byte changed.
     * Each result is either rejected as a bad model file or read to exactly the original tensors (a damaged
     * byte in a zip header's date or a ZIP64 field changes nothing Tuna reads) — never accepted with other
     * values.
     */
    @Test
    void rejectsOrReadsExactlyEveryDamagedOrTruncatedFile() {
        byte[] pickle = endStateDict(stateDict()
                .str("a").tensor("FloatStorage", "0", 6, 1, new long[] {2, 2}, new long[] {1, 3})
                .str("b").tensor("LongStorage", "1", 1, 0, SCALAR, SCALAR));
        for (boolean stored : new boolean[] {true, false}) {
            TorchZip zip = new TorchZip("archive", pickle).storage("0", floats(0, 1, 2, 3, 4, 5)).storage("1", longs(7));
            byte[] whole = (stored ? zip.stored() : zip).bytes();
            WeightFile original = PthReader.read(Fixtures.write(dir.resolve("whole.pth"), whole));
            Random random = new Random(42);
            int accepted = 0;
            for (int i = 0; i < whole.length; i++) {
                byte[] damaged = whole.clone();
                damaged[i] ^= (byte) (1 + random.nextInt(255)); // never 0: the byte always changes
                for (byte[] variant : new byte[][] {Arrays.copyOf(whole, i), damaged}) {
                    Path path = Fixtures.write(dir.resolve("damaged.pth"), variant);
                    WeightFile read;
                    try {
                        read = PthReader.read(path);
                    } catch (TunaException e) {
                        assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE);
                        assertThat(e.getMessage()).contains(path.toString());
                        continue;
                    }
                    accepted++;
                    String what = (variant == damaged ? "byte " + i + " changed" : "cut to " + i + " bytes")
                            + (stored ? " (stored)" : " (deflated)");
                    assertThat(read.tensors()).as(what).isEqualTo(original.tensors());
                    assertThat(read.stateDictKey()).as(what).isEqualTo(original.stateDictKey());
                    assertThat(read.skipped()).as(what).isEqualTo(original.skipped());
                }
            }
            // the headers' dates, versions and flags are not read: their damage is harmless, and is accepted
            assertThat(accepted).as("damaged files read").isPositive();
        }
    }

    @Test
    void reportsAChangedWeightByItsChecksum() {
        byte[] pickle = endStateDict(stateDict()
                .str("w").tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1}));
        byte[] whole = new TorchZip("archive", pickle).storage("0", floats(1.5f, 2.5f, 3.5f, 4.5f)).stored().bytes();
        byte[] weight = floats(2.5f);
        int at = indexOf(whole, weight);
        whole[at + 3] ^= 0x01; // 2.5 becomes another valid float: only the CRC-32 tells
        Path path = Fixtures.write(dir.resolve("flipped.pth"), whole);

        assertThatThrownBy(() -> PthReader.read(path))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessageStartingWith(path + ": zip entry 'archive/data/0' cannot be read (its CRC-32 is ")
                .hasMessageContaining("the file is probably truncated or damaged");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    @Test
    void reportsUnknownOpcode() {
        byte[] pickle = new PickleWriter().proto().emptyDict().raw(0xff).stop().bytes();
        Path path = file("bad.pth", new TorchZip("archive", pickle));

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessageContaining("the pickled data is corrupt at byte 3: 0xff is not a pickle opcode");
    }

    @Test
    void reportsMissingStorageEntry() {
        byte[] pickle = endStateDict(stateDict()
                .str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}));
        Path path = file("missing.pth", new TorchZip("archive", pickle));

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessage(path + " is incomplete: it lacks the zip entry 'archive/data/0' holding the data of tensor"
                        + " 'w'; download or save the file again");
    }

    @Test
    void reportsStorageEntryOfWrongSize() {
        byte[] pickle = endStateDict(stateDict()
                .str("w").tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1}));
        Path path = file("short.pth", new TorchZip("archive", pickle).storage("0", floats(1, 2, 3)));

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessageContaining("zip entry 'archive/data/0' should hold 4 elements of FloatStorage (16 bytes)"
                        + " but has 12 bytes");
    }

    @Test
    void reportsViewBeyondItsStorage() {
        byte[] pickle = endStateDict(stateDict()
                .str("w").tensor("FloatStorage", "0", 4, 2, new long[] {2, 2}, new long[] {1, 2}));
        Path path = file("oob.pth", new TorchZip("archive", pickle).storage("0", floats(1, 2, 3, 4)));

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessageContaining("tensor 'w' (size [2, 2], stride [1, 2], storage offset 2) reaches element 5"
                        + " of its storage '0', which has only 4 elements");
    }

    @Test
    void reportsMalformedPersistentId() {
        byte[] pickle = endStateDict(stateDict()
                .str("w").global("torch._utils", "_rebuild_tensor_v2").mark()
                .mark().str("storage").str("not a type").tuple().raw('Q')
                .integer(0).ints(1).ints(1).newFalse().orderedDict().tuple().reduce());
        Path path = file("pid.pth", new TorchZip("archive", pickle));

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessageContaining("a persistent id should be ('storage', storage type, key, location, numel),"
                        + " found (a str ('storage'), a str ('not a type'))");
    }

    @Test
    void reportsStorageDescribedInconsistently() {
        byte[] pickle = endStateDict(stateDict()
                .str("a").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1})
                .str("b").tensor("FloatStorage", "0", 100, 50, new long[] {2}, new long[] {1}));
        Path path = file("liar.pth", new TorchZip("archive", pickle).storage("0", floats(1, 2)));

        assertThatThrownBy(() -> PthReader.read(path))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessageContaining("storage '0' is described both as 2 elements of FloatStorage and as 100 elements"
                        + " of FloatStorage");
    }

    @Test
    void reportsSelfReferentialDictKeyWithoutOverflowingTheStack() {
        // l = []; l.append(l); {(l,): 1} -- a key Python itself could not hash
        byte[] pickle = new PickleWriter().proto().emptyDict().emptyList().put(0).get(0).raw('a').raw(0x85)
                .integer(1).setItem().stop().bytes();
        Path path = file("loop.pth", new TorchZip("archive", pickle));

        assertThatThrownBy(() -> PthReader.read(path))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessageContaining("a dict key is a tuple of 1 items; expected a str, a number or a tuple of them");
    }

    @Test
    void rejectsSingleTensor() {
        byte[] pickle = new PickleWriter().proto()
                .tensor("FloatStorage", "0", 3, 0, new long[] {3}, new long[] {1}).stop().bytes();
        Path path = file("tensor.pth", new TorchZip("archive", pickle).storage("0", floats(1, 2, 3)));

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessageStartingWith(path + " holds a single tensor of shape [3], not a dict of named tensors;"
                        + " expected a state dict");
    }

    @Test
    void rejectsTopLevelThatIsNotADict() {
        byte[] pickle = new PickleWriter().proto().emptyList().stop().bytes();
        Path path = file("list.pth", new TorchZip("archive", pickle));

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessage(path + " holds a list of 0 items; expected a state dict (a dict of parameter names to"
                        + " tensors): save one with torch.save(model.state_dict(), 'weights.pth')");
    }

    @Test
    void rejectsDictWithoutTensors() {
        byte[] pickle = new PickleWriter().proto().emptyDict().str("epoch").integer(3).setItem().stop().bytes();
        Path path = file("none.pth", new TorchZip("archive", pickle));

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessageContaining("holds no tensors: expected a state dict (a dict of parameter names to"
                        + " tensors), found a dict with the keys 'epoch'");
    }

    @Test
    void rejectsZipWithoutDataPkl() {
        Path npz = Fixtures.write(dir.resolve("weights.npz"), Fixtures.zipOf("a.npy", new byte[] {1}));

        assertThatThrownBy(() -> PthReader.read(npz))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessageContaining("is a zip archive but not a torch.save file: expected an entry"
                        + " '<folder>/data.pkl', found the entries 'a.npy'");
    }

    @Test
    void rejectsFileThatIsNotAZip() throws Exception {
        Path path = Files.writeString(dir.resolve("notes.pth"), "hello");

        assertThatThrownBy(() -> PthReader.read(path))
                .hasMessage("expected " + path + " to be a .pth file written by torch.save (a zip archive starting"
                        + " with \"PK\"), found a text file of 5 bytes starting with \"hello\"; check the path, or"
                        + " download or save the file again");
    }

    @Test
    void rejectsMissingFile() {
        Path path = dir.resolve("nope.pth");

        assertThatThrownBy(() -> PthReader.read(path))
                .satisfies(PthReaderTest::assertBadModelFile)
                .hasMessage("weight file " + path + " does not exist; check the path");
    }
}
