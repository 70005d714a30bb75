package dev.tuna.model.weights;

import dev.tuna.TunaException;
import dev.tuna.model.weights.Unpickler.PyNone;
import dev.tuna.model.weights.Unpickler.PyTuple;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads PyTorch {@code torch.save} files in the zip format that PyTorch writes since version 1.6
 * ({@code .pth}, {@code .pt}): a zip archive with one top folder holding {@code data.pkl} (a pickle
 * of the saved object), {@code data/<key>} (the raw little-endian bytes of each storage),
 * {@code version} and perhaps {@code byteorder}.
 *
 * <p>The pickle is read by a small, strict unpickler that runs no code and accepts only the Python
 * globals a state dict needs: {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2},
 * {@code torch._utils._rebuild_parameter} and the storage types {@code torch.FloatStorage},
 * {@code HalfStorage}, {@code BFloat16Storage}, {@code DoubleStorage}, {@code LongStorage},
 * {@code IntStorage}, {@code ShortStorage}, {@code CharStorage}, {@code ByteStorage},
 * {@code BoolStorage} and {@code UntypedStorage}. Any other global fails with a message naming it.
 *
 * <p>The saved object must be a state dict (a dict of names to tensors), or a checkpoint dict holding
 * one under {@code "state_dict"}, {@code "model_state_dict"} or {@code "model"}; {@link
 * WeightFile#stateDictKey()} tells which. Entries of the state dict that are not tensors are left out
 * and listed in {@link WeightFile#skipped()}. Tensors are materialised contiguous, in C order,
 * honouring storage offsets and arbitrary strides; tensors that are views of one storage each get
 * their own elements.
 *
 * <pre>{@code
 * WeightFile weights = PthReader.read(Path.of("resnet18-f37072fd.pth"));
 * Tensor conv1 = weights.tensor("conv1.weight"); // F32 [64, 3, 7, 7]
 * }</pre>
 */
public final class PthReader {
    private static final List<String> STATE_DICT_KEYS = List.of("state_dict", "model_state_dict", "model");
    private static final Map<String, DType> STORAGE_TYPES = Map.of(
            "FloatStorage", DType.F32, "HalfStorage", DType.F16, "BFloat16Storage", DType.BF16,
            "DoubleStorage", DType.F64, "LongStorage", DType.I64, "IntStorage", DType.I32,
            "ShortStorage", DType.I16, "CharStorage", DType.I8, "ByteStorage", DType.U8, "BoolStorage", DType.BOOL);
    private static final String ALLOWED_GLOBALS = "collections.OrderedDict, torch._utils._rebuild_tensor_v2,"
            + " torch._utils._rebuild_parameter and the torch storage types";

    private PthReader() {
    }

    /**
     * Reads the state dict of a {@code torch.save} file into memory.
     *
     * @param path the {@code .pth} or {@code .pt} file
     * @return the state dict's tensors in file order, with the key of the state dict in a checkpoint
     *     and the non-tensor entries that were skipped
     * @throws TunaException ({@code BAD_MODEL_FILE}) if the file is missing, unreadable, in the legacy
     *     (pre-1.6) or TorchScript format, truncated, corrupt, or holds something other than tensors in
     *     dicts
     */
    public static WeightFile read(Path path) {
        long size = FileProbe.checkFile(path);
        byte[] head = FileProbe.head(path);
        if (FileProbe.isLegacyTorch(head)) {
            throw FileProbe.bad(path + " was saved by PyTorch < 1.6 (legacy format); re-save it with a newer"
                    + " PyTorch: torch.save(torch.load(f), f2)");
        }
        if (!FileProbe.isZip(head)) {
            if (FileProbe.isPickle(head)) {
                throw FileProbe.bad(path + " is a plain Python pickle, not a torch.save file (a zip archive, written"
                        + " by PyTorch 1.6 or later); load it in Python and save it with torch.save(obj, f2)");
            }
            throw FileProbe.bad("expected " + path + " to be a .pth file written by torch.save (a zip archive"
                    + " starting with \"PK\"), found " + FileProbe.describe(head, size)
                    + "; check the path, or download or save the file again");
        }
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (IOException e) {
            throw FileProbe.bad(path + " starts like a zip archive (a torch.save file) but cannot be read as one ("
                    + e.getMessage() + "): it is probably truncated or damaged; download or save it again", e);
        }
        try (zip) {
            return new Archive(path, zip).read();
        } catch (IOException e) {
            throw FileProbe.bad("cannot read weight file " + path + " (" + e + "); check that it is readable", e);
        }
    }

    /** A torch storage class, e.g. {@code torch.FloatStorage}. */
    private record StorageType(String name, DType dtype) {
    }

    /** A storage named by a persistent id: the bytes of zip entry {@code data/<key>}. */
    private record StorageRef(String key, StorageType type, long numel) {
    }

    /** A tensor view of a storage, before its elements are read. */
    private record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    /** The functions the pickle may call. */
    private enum Function {
        ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_PARAMETER
    }

    /** One open archive: finds its entries, unpickles data.pkl and materialises tensors. */
    private static final class Archive implements Unpickler.Hooks {
        private final Path path;
        private final ZipFile zip;
        private final Map<String, StorageRef> storageRefs = new HashMap<>();
        private final Map<String, byte[]> storages = new HashMap<>();
        private String prefix = "";
        private boolean bigEndian;

        Archive(Path path, ZipFile zip) {
            this.path = path;
            this.zip = zip;
        }

        WeightFile read() {
            List<String> names = new ArrayList<>();
            try {
                for (ZipEntry entry : Collections.list(zip.entries())) {
                    names.add(entry.getName());
                }
            } catch (IllegalArgumentException e) { // ZipFile decodes each name as it lists it (found by fuzzing)
                throw FileProbe.bad(path + " is a damaged zip archive: the name of one of its entries is not valid UTF-8"
                        + " (" + e.getMessage() + "); download or save the file again", e);
            }
            boolean torchScript = names.stream().anyMatch(n -> n.matches("[^/]+/constants\\.pkl") || n.matches(
                    "[^/]+/code/.*"));
            if (torchScript) {
                throw FileProbe.bad(path + " is a TorchScript archive (saved with torch.jit.save), not a torch.save"
                        + " state dict; save its weights in Python: torch.save(torch.jit.load(f).state_dict(),"
                        + " 'weights.pth')");
            }
            TreeSet<String> prefixes = new TreeSet<>();
            for (String name : names) {
                if (name.matches("[^/]+/data\\.pkl")) {
                    prefixes.add(name.substring(0, name.indexOf('/')));
                }
            }
            if (prefixes.isEmpty()) {
                throw FileProbe.bad(path + " is a zip archive but not a torch.save file: expected an entry"
                        + " '<folder>/data.pkl', found " + (names.isEmpty() ? "no entries" : "the entries "
                        + FileProbe.preview(names)) + "; save the weights with torch.save(model.state_dict(),"
                        + " 'weights.pth')");
            }
            if (prefixes.size() > 1) {
                throw FileProbe.bad(path + " holds several torch.save archives (folders " + FileProbe.preview(prefixes)
                        + "), expected one; save the weights alone with torch.save(model.state_dict(), 'weights.pth')");
            }
            prefix = prefixes.first();
            ZipEntry byteOrder = zip.getEntry(prefix + "/byteorder");
            if (byteOrder != null) {
                String order = new String(entryBytes(byteOrder, 64), StandardCharsets.US_ASCII).strip();
                if (!order.equals("little") && !order.equals("big")) {
                    throw FileProbe.bad(path + ": entry " + byteOrder.getName() + " says '" + order
                            + "', expected 'little' or 'big'; the file is damaged: download or save it again");
                }
                bigEndian = order.equals("big");
            }
            ZipEntry pickle = zip.getEntry(prefix + "/data.pkl");
            byte[] pickleBytes = entryBytes(pickle, SafetensorsReader.MAX_TENSOR_BYTES);
            Object top = new Unpickler(pickleBytes, path + " (entry " + pickle.getName() + ")", this).load();
            return select(top);
        }

        private WeightFile select(Object top) {
            if (!(top instanceof Map<?, ?> topDict)) {
                throw FileProbe.bad(path + " holds " + describe(top) + "; expected a state dict (a dict of"
                        + " parameter names to tensors): save one with torch.save(model.state_dict(), 'weights.pth')");
            }
            Map<?, ?> dict = topDict;
            String key = null;
            for (String candidate : STATE_DICT_KEYS) {
                if (topDict.get(candidate) instanceof Map<?, ?> inner) {
                    key = candidate;
                    dict = inner;
                    break;
                }
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, String> skipped = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : dict.entrySet()) {
                if (!(entry.getKey() instanceof String name)) {
                    skipped.put(String.valueOf(entry.getKey()), "a value under the non-string key "
                            + describe(entry.getKey()));
                } else if (entry.getValue() instanceof TensorRef ref) {
                    tensors.put(name, materialise(name, ref));
                } else {
                    skipped.put(name, describe(entry.getValue()));
                }
            }
            if (tensors.isEmpty()) {
                throw FileProbe.bad(path + " holds no tensors"
                        + (key == null ? "" : " under its '" + key + "' key")
                        + ": expected a state dict (a dict of parameter names to tensors), found a dict with the keys "
                        + FileProbe.preview(dict.keySet()) + "; save the weights with torch.save(model.state_dict(),"
                        + " 'weights.pth')");
            }
            return new WeightFile(path, WeightFile.Format.PTH, tensors, Map.of(), Optional.ofNullable(key), skipped);
        }

        @Override
        public Object global(String module, String name) {
            if (module.equals("collections") && name.equals("OrderedDict")) {
                return Function.ORDERED_DICT;
            }
            if (module.equals("torch._utils") && name.equals("_rebuild_tensor_v2")) {
                return Function.REBUILD_TENSOR_V2;
            }
            if (module.equals("torch._utils") && name.equals("_rebuild_parameter")) {
                return Function.REBUILD_PARAMETER;
            }
            if (module.equals("torch") && STORAGE_TYPES.containsKey(name)) {
                return new StorageType(name, STORAGE_TYPES.get(name));
            }
            if ((module.equals("torch") || module.equals("torch.storage")) && name.equals("UntypedStorage")) {
                return new StorageType(name, DType.U8);
            }
            boolean torchFeature = (module.equals("torch") || module.startsWith("torch."))
                    && !module.startsWith("torch.nn.");
            String hint = torchFeature
                    ? "the file uses a PyTorch feature Tuna does not read (e.g. quantized, sparse or complex tensors,"
                    + " or tensor subclasses); save plain dense tensors instead"
                    : "the file holds pickled Python objects, not only tensors (e.g. a whole model saved with"
                    + " torch.save(model), or NumPy values in a checkpoint); save only the weights:"
                    + " torch.save(model.state_dict(), 'weights.pth')";
            throw FileProbe.bad(path + ": the pickle refers to the Python global '" + module + "." + name
                    + "', which Tuna does not load (it allows only " + ALLOWED_GLOBALS + ", so that no code runs); "
                    + hint);
        }

        @Override
        public Object persistentLoad(Object pid) {
            if (!(pid instanceof PyTuple id) || id.size() != 5 || !"storage".equals(id.get(0))
                    || !(id.get(1) instanceof StorageType type) || !(id.get(2) instanceof String key)
                    || !(id.get(3) instanceof String) || !(id.get(4) instanceof Long numel) || numel < 0) {
                throw notTorch("a persistent id should be ('storage', storage type, key, location, numel), found "
                        + describe(pid));
            }
            if (numel > SafetensorsReader.MAX_TENSOR_BYTES / type.dtype().byteSize()) {
                throw FileProbe.bad(path + " is corrupt or too large: its pickle declares storage '" + key + "' of "
                        + numel + " elements of " + type.name() + ", more than the " + SafetensorsReader.MAX_TENSOR_BYTES
                        + " bytes Tuna reads in one storage; download or save the file again");
            }
            StorageRef storage = new StorageRef(key, type, numel);
            StorageRef previous = storageRefs.putIfAbsent(key, storage);
            if (previous != null && !previous.equals(storage)) {
                throw notTorch("storage '" + key + "' is described both as " + previous.numel() + " elements of "
                        + previous.type().name() + " and as " + numel + " elements of " + type.name());
            }
            return storage;
        }

        @Override
        public Object reduce(Object callable, PyTuple args) {
            if (callable == Function.ORDERED_DICT) {
                if (args.size() != 0) {
                    throw notTorch("OrderedDict is called with " + args.size() + " arguments, expected none");
                }
                return new LinkedHashMap<Object, Object>();
            }
            if (callable == Function.REBUILD_PARAMETER) {
                if (args.size() != 3 || !(args.get(0) instanceof TensorRef tensor)) {
                    throw notTorch("_rebuild_parameter expects (tensor, requires_grad, backward_hooks), found "
                            + describe(args));
                }
                return tensor;
            }
            if (callable == Function.REBUILD_TENSOR_V2) {
                return rebuildTensor(args);
            }
            throw notTorch("REDUCE calls " + describe(callable) + ", which is not a function");
        }

        @Override
        public void build(Object target, Object state) {
            // An OrderedDict's attributes, e.g. a state dict's _metadata (module versions): not needed.
            if (!(target instanceof Map<?, ?>)
                    || !(state instanceof Map<?, ?> || state instanceof PyTuple || state == PyNone.NONE)) {
                throw notTorch("BUILD sets the state of " + describe(target) + " to " + describe(state));
            }
        }

        private TensorRef rebuildTensor(PyTuple args) {
            if ((args.size() != 6 && args.size() != 7) || !(args.get(0) instanceof StorageRef storage)
                    || !(args.get(1) instanceof Long offset) || !(args.get(2) instanceof PyTuple sizeTuple)
                    || !(args.get(3) instanceof PyTuple strideTuple) || !(args.get(4) instanceof Boolean)) {
                throw notTorch("_rebuild_tensor_v2 expects (storage, storage_offset, size, stride, requires_grad,"
                        + " backward_hooks[, metadata]), found " + describe(args));
            }
            long[] size = longs(sizeTuple, "size");
            long[] stride = longs(strideTuple, "stride");
            if (size.length != stride.length || offset < 0 || Arrays.stream(size).anyMatch(s -> s < 0)
                    || Arrays.stream(stride).anyMatch(s -> s < 0)) {
                throw notTorch("a tensor has size " + Arrays.toString(size) + ", stride " + Arrays.toString(stride)
                        + " and storage offset " + offset + "; expected as many non-negative strides as dimensions");
            }
            return new TensorRef(storage, offset, size, stride);
        }

        private long[] longs(PyTuple tuple, String what) {
            long[] out = new long[tuple.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(tuple.get(i) instanceof Long value)) {
                    throw notTorch("a tensor's " + what + " holds " + describe(tuple.get(i))
                            + ", expected ints");
                }
                out[i] = value;
            }
            return out;
        }

        private Tensor materialise(String name, TensorRef ref) {
            DType dtype = ref.storage().type().dtype();
            int elementSize = dtype.byteSize();
            long[] size = ref.size();
            long[] stride = ref.stride();
            long numel;
            long last;
            try {
                numel = Tensor.numel(size);
                long byteSize = Math.multiplyExact(numel, elementSize);
                if (byteSize > SafetensorsReader.MAX_TENSOR_BYTES) {
                    throw FileProbe.bad(path + ": tensor '" + name + "' is " + byteSize + " bytes; Tuna reads tensors"
                            + " of up to " + SafetensorsReader.MAX_TENSOR_BYTES + " bytes");
                }
                last = ref.offset();
                for (int i = 0; i < size.length && numel > 0; i++) {
                    last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
                }
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw notTorch("tensor '" + name + "' has an impossible shape " + Arrays.toString(size) + " or stride "
                        + Arrays.toString(stride));
            }
            if (numel == 0) {
                return new Tensor(name, dtype, size, ByteBuffer.allocate(0));
            }
            StorageRef storage = ref.storage();
            if (last >= storage.numel()) {
                throw FileProbe.bad(path + " is corrupt: tensor '" + name + "' (size " + Arrays.toString(size)
                        + ", stride " + Arrays.toString(stride) + ", storage offset " + ref.offset()
                        + ") reaches element " + last + " of its storage '" + storage.key() + "', which has only "
                        + storage.numel() + " elements; download or save the file again");
            }
            byte[] bytes = storageBytes(storage, name);
            int start = (int) ref.offset() * elementSize;
            if (isContiguous(size, stride)) {
                return new Tensor(name, dtype, size, ByteBuffer.wrap(bytes, start, (int) numel * elementSize));
            }
            return new Tensor(name, dtype, size, ByteBuffer.wrap(gather(bytes, elementSize, ref, (int) numel)));
        }

        private byte[] storageBytes(StorageRef storage, String tensorName) {
            byte[] cached = storages.get(storage.key());
            if (cached != null) {
                return cached;
            }
            String entryName = prefix + "/data/" + storage.key();
            ZipEntry entry = zip.getEntry(entryName);
            if (entry == null) {
                throw FileProbe.bad(path + " is incomplete: it lacks the zip entry '" + entryName + "' holding the"
                        + " data of tensor '" + tensorName + "'; download or save the file again");
            }
            int elementSize = storage.type().dtype().byteSize();
            long expected = storage.numel() * elementSize;
            byte[] bytes = entryBytes(entry, SafetensorsReader.MAX_TENSOR_BYTES);
            if (bytes.length != expected) {
                throw FileProbe.bad(path + " is corrupt: zip entry '" + entryName + "' should hold " + storage.numel()
                        + " elements of " + storage.type().name() + " (" + expected + " bytes) but has "
                        + bytes.length + " bytes; download or save the file again");
            }
            if (bigEndian && elementSize > 1) {
                for (int i = 0; i < bytes.length; i += elementSize) {
                    for (int a = i, b = i + elementSize - 1; a < b; a++, b--) {
                        byte t = bytes[a];
                        bytes[a] = bytes[b];
                        bytes[b] = t;
                    }
                }
            }
            storages.put(storage.key(), bytes);
            return bytes;
        }

        private byte[] entryBytes(ZipEntry entry, long limit) {
            if (entry.getSize() > limit) {
                throw FileProbe.bad(path + ": zip entry '" + entry.getName() + "' is " + entry.getSize()
                        + " bytes; Tuna reads entries of up to " + limit + " bytes");
            }
            try (InputStream in = zip.getInputStream(entry)) {
                byte[] bytes = in.readNBytes((int) Math.min(limit, Integer.MAX_VALUE - 8L));
                if (entry.getSize() >= 0 && bytes.length != entry.getSize()) {
                    throw new ZipException("expected " + entry.getSize() + " bytes, read " + bytes.length);
                }
                // ZipFile does not check the CRC-32 that every entry carries (torch.save writes it too):
                // without this, a damaged byte inside a stored entry would be read as a different weight
                CRC32 crc = new CRC32();
                crc.update(bytes);
                if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
                    throw new ZipException(String.format("its CRC-32 is %08x, the archive records %08x",
                            crc.getValue(), entry.getCrc()));
                }
                return bytes;
            } catch (IOException e) {
                throw FileProbe.bad(path + ": zip entry '" + entry.getName() + "' cannot be read (" + e.getMessage()
                        + "): the file is probably truncated or damaged; download or save it again", e);
            }
        }

        private TunaException notTorch(String problem) {
            return FileProbe.bad(path + " (entry " + prefix + "/data.pkl) does not hold what torch.save writes for a"
                    + " state dict: " + problem + "; the file is damaged or was not written by torch.save: save the"
                    + " weights with torch.save(model.state_dict(), 'weights.pth')");
        }

        private static String describe(Object value) {
            if (value instanceof PyTuple tuple) {
                List<String> items = new ArrayList<>();
                for (Object item : tuple.items()) {
                    items.add(item instanceof PyTuple inner ? "a tuple of " + inner.size() + " items" : describe(item));
                }
                return "(" + String.join(", ", items) + ")";
            }
            if (value instanceof TensorRef tensor) {
                return "a single tensor of shape " + Arrays.toString(tensor.size()) + ", not a dict of named tensors";
            }
            if (value instanceof StorageRef storage) {
                return "a bare storage ('" + storage.key() + "')";
            }
            if (value instanceof StorageType type) {
                return "torch." + type.name();
            }
            if (value instanceof Function function) {
                return switch (function) {
                    case ORDERED_DICT -> "collections.OrderedDict";
                    case REBUILD_TENSOR_V2 -> "torch._utils._rebuild_tensor_v2";
                    case REBUILD_PARAMETER -> "torch._utils._rebuild_parameter";
                };
            }
            return Unpickler.describe(value);
        }
    }

    /**
     * Tells whether a view with these sizes and strides is laid out contiguously in C order.
     *
     * @param size the sizes
     * @param stride the strides, in elements
     * @return true if the elements are consecutive
     */
    static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= size[i];
        }
        return true;
    }

    /** Copies a strided view's elements into a new C-order array; the view is known to fit its storage. */
    private static byte[] gather(byte[] storage, int elementSize, TensorRef ref, int numel) {
        long[] size = ref.size();
        long[] stride = ref.stride();
        int rank = size.length;
        byte[] out = new byte[numel * elementSize];
        int innerSize = rank == 0 ? 1 : (int) size[rank - 1];
        long innerStride = rank == 0 ? 0 : stride[rank - 1];
        long[] index = new long[Math.max(rank - 1, 0)];
        long rowStart = ref.offset();
        int written = 0;
        while (written < out.length) {
            if (innerStride == 1) {
                System.arraycopy(storage, (int) rowStart * elementSize, out, written, innerSize * elementSize);
                written += innerSize * elementSize;
            } else {
                for (int j = 0; j < innerSize; j++) {
                    System.arraycopy(storage, (int) (rowStart + j * innerStride) * elementSize, out, written,
                            elementSize);
                    written += elementSize;
                }
            }
            for (int d = index.length - 1; d >= 0; d--) { // odometer over the outer dimensions
                index[d]++;
                rowStart += stride[d];
                if (index[d] < size[d]) {
                    break;
                }
                rowStart -= index[d] * stride[d];
                index[d] = 0;
            }
        }
        return out;
    }
}
