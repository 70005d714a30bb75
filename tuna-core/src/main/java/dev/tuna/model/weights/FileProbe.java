package dev.tuna.model.weights;

import dev.tuna.TunaException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Iterator;

/** Helpers shared by the readers: file checks, sniffing the first bytes, error messages. */
final class FileProbe {
    /** How many bytes {@link #head(Path)} reads. */
    static final int HEAD_BYTES = 16;

    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
    private static final byte[] EMPTY_ZIP_MAGIC = {'P', 'K', 5, 6};
    private static final byte[] HDF5_MAGIC = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    private static final byte[] NPY_MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final byte[] GZIP_MAGIC = {0x1f, (byte) 0x8b};
    /** What legacy (pre-1.6) torch.save writes first: pickle protocol 2, LONG1 0x1950a86a20f9469cfc6c, STOP. */
    private static final byte[] LEGACY_TORCH_MAGIC = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc,
        (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    private FileProbe() {
    }

    static TunaException bad(String message) {
        return new TunaException(TunaException.Kind.BAD_MODEL_FILE, message);
    }

    static TunaException bad(String message, Throwable cause) {
        return new TunaException(TunaException.Kind.BAD_MODEL_FILE, message, cause);
    }

    /**
     * Fails unless the path is a readable regular file.
     *
     * @param path the weight file
     * @return its size in bytes
     */
    static long checkFile(Path path) {
        if (Files.isDirectory(path)) {
            throw bad(path + " is a directory; expected a weight file (.pth or .safetensors): pass the file itself");
        }
        if (!Files.exists(path)) {
            throw bad("weight file " + path + " does not exist; check the path");
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw bad("weight file " + path + " is not a readable regular file; check its permissions");
        }
        try {
            return Files.size(path);
        } catch (IOException e) {
            throw bad("cannot read weight file " + path + " (" + e + "); check that it is readable", e);
        }
    }

    /**
     * Reads the first {@link #HEAD_BYTES} bytes of a file, or all of a shorter one.
     *
     * @param path the file
     * @return its first bytes
     */
    static byte[] head(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(HEAD_BYTES);
        } catch (IOException e) {
            throw bad("cannot read weight file " + path + " (" + e + "); check that it is readable", e);
        }
    }

    static boolean isZip(byte[] head) {
        return startsWith(head, ZIP_MAGIC) || startsWith(head, EMPTY_ZIP_MAGIC);
    }

    static boolean isLegacyTorch(byte[] head) {
        return head.length >= LEGACY_TORCH_MAGIC.length && head[0] == LEGACY_TORCH_MAGIC[0]
                && startsWith(head, 2, LEGACY_TORCH_MAGIC, 2);
    }

    static boolean isPickle(byte[] head) {
        return head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5;
    }

    /**
     * Tells whether a file may be safetensors: an 8-byte header length followed by a JSON object.
     *
     * @param head the first bytes
     * @return true if the ninth byte is {@code '{'}
     */
    static boolean mayBeSafetensors(byte[] head) {
        return head.length > 8 && head[8] == '{';
    }

    /**
     * Describes what a file looks like, for error messages.
     *
     * @param head its first bytes
     * @param size its size in bytes
     * @return e.g. "an HDF5 file (e.g. a Keras .h5 model)"
     */
    static String describe(byte[] head, long size) {
        if (size == 0) {
            return "an empty file";
        }
        if (isZip(head)) {
            return "a zip archive";
        }
        if (isLegacyTorch(head)) {
            return "a file saved by PyTorch < 1.6 (legacy format)";
        }
        if (isPickle(head)) {
            return "a Python pickle";
        }
        if (startsWith(head, HDF5_MAGIC)) {
            return "an HDF5 file (e.g. a Keras .h5 model)";
        }
        if (startsWith(head, NPY_MAGIC)) {
            return "a NumPy .npy array";
        }
        if (startsWith(head, GZIP_MAGIC)) {
            return "a gzip-compressed file (decompress it first)";
        }
        boolean text = true;
        for (byte b : head) {
            text &= (b >= 0x20 && b < 0x7f) || b == '\n' || b == '\r' || b == '\t';
        }
        if (text) {
            String start = new String(head, StandardCharsets.US_ASCII).replace("\n", "\\n")
                    .replace("\r", "\\r").replace("\t", "\\t");
            return "a text file of " + size + " bytes starting with \"" + start + "\"";
        }
        return "a file of " + size + " bytes starting with " + hex(head);
    }

    static String hex(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        for (byte b : bytes) {
            out.append(out.length() == 0 ? "" : " ").append(String.format("%02x", b & 0xff));
        }
        return out.toString();
    }

    /**
     * Lists a few names for an error message.
     *
     * @param names the names
     * @return e.g. {@code 'a', 'b', 'c' and 12 more}
     */
    static String preview(Collection<?> names) {
        if (names.isEmpty()) {
            return "(none)";
        }
        StringBuilder out = new StringBuilder();
        Iterator<?> it = names.iterator();
        int shown = 0;
        while (it.hasNext() && shown < 8) {
            out.append(shown == 0 ? "" : ", ").append('\'').append(it.next()).append('\'');
            shown++;
        }
        if (names.size() > shown) {
            out.append(" and ").append(names.size() - shown).append(" more");
        }
        return out.toString();
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        return startsWith(bytes, 0, prefix, 0);
    }

    private static boolean startsWith(byte[] bytes, int from, byte[] prefix, int prefixFrom) {
        if (bytes.length - from < prefix.length - prefixFrom) {
            return false;
        }
        for (int i = prefixFrom; i < prefix.length; i++) {
            if (bytes[from + i - prefixFrom] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
