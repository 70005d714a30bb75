package dev.tuna.model.weights;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes tiny weight files by hand: pickles, torch.save zip archives and safetensors files. */
final class Fixtures {
    private Fixtures() {
    }

    /** Writes pickle opcodes, in the way torch.save does (protocol 2). */
    static final class PickleWriter {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        PickleWriter raw(int... bytes) {
            for (int b : bytes) {
                out.write(b);
            }
            return this;
        }

        PickleWriter proto() {
            return raw(0x80, 2);
        }

        PickleWriter mark() {
            return raw('(');
        }

        PickleWriter str(String value) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            raw('X');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).array());
            out.writeBytes(utf8);
            return this;
        }

        PickleWriter global(String module, String name) {
            raw('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
            return this;
        }

        PickleWriter integer(long value) {
            if (value >= 0 && value < 256) {
                return raw('K', (int) value);
            }
            if (value >= 0 && value < 65536) {
                return raw('M', (int) value & 0xff, (int) (value >>> 8));
            }
            if (value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE) {
                raw('J');
                out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) value).array());
                return this;
            }
            raw(0x8a, 8);
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
            return this;
        }

        PickleWriter ints(long... values) {
            mark();
            for (long value : values) {
                integer(value);
            }
            return tuple();
        }

        PickleWriter emptyDict() {
            return raw('}');
        }

        PickleWriter emptyTuple() {
            return raw(')');
        }

        PickleWriter emptyList() {
            return raw(']');
        }

        PickleWriter tuple() {
            return raw('t');
        }

        PickleWriter newFalse() {
            return raw(0x89);
        }

        PickleWriter newTrue() {
            return raw(0x88);
        }

        PickleWriter reduce() {
            return raw('R');
        }

        PickleWriter build() {
            return raw('b');
        }

        PickleWriter setItem() {
            return raw('s');
        }

        PickleWriter setItems() {
            return raw('u');
        }

        PickleWriter put(int index) {
            return raw('q', index);
        }

        PickleWriter get(int index) {
            return raw('h', index);
        }

        PickleWriter stop() {
            return raw('.');
        }

        /** Writes {@code collections.OrderedDict()}. */
        PickleWriter orderedDict() {
            return global("collections", "OrderedDict").emptyTuple().reduce();
        }

        /** Writes the persistent id of a storage: ('storage', torch.<type>, key, 'cpu', numel), BINPERSID. */
        PickleWriter storage(String storageType, String key, long numel) {
            return mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).tuple()
                    .raw('Q');
        }

        /** Writes {@code _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())}. */
        PickleWriter tensor(String storageType, String key, long storageNumel, long offset, long[] size,
                long[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").mark();
            storage(storageType, key, storageNumel);
            return integer(offset).ints(size).ints(stride).newFalse().orderedDict().tuple().reduce();
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** A torch.save archive under construction: a top folder with data.pkl, version and data/ entries. */
    static final class TorchZip {
        private final String prefix;
        private final Map<String, byte[]> entries = new LinkedHashMap<>();
        private boolean stored;

        TorchZip(String prefix, byte[] pickle) {
            this.prefix = prefix;
            entries.put(prefix + "/data.pkl", pickle);
        }

        TorchZip storage(String key, byte[] bytes) {
            entries.put(prefix + "/data/" + key, bytes);
            return this;
        }

        TorchZip entry(String name, byte[] bytes) {
            entries.put(name, bytes);
            return this;
        }

        /** Stores the entries uncompressed, as torch.save does (the default here deflates them). */
        TorchZip stored() {
            stored = true;
            return this;
        }

        byte[] bytes() {
            entries.putIfAbsent(prefix + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            try (ZipOutputStream zip = new ZipOutputStream(buffer)) {
                for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                    ZipEntry zipEntry = new ZipEntry(entry.getKey());
                    if (stored) {
                        CRC32 crc = new CRC32();
                        crc.update(entry.getValue());
                        zipEntry.setMethod(ZipEntry.STORED);
                        zipEntry.setSize(entry.getValue().length);
                        zipEntry.setCrc(crc.getValue());
                    }
                    zip.putNextEntry(zipEntry);
                    zip.write(entry.getValue());
                    zip.closeEntry();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return buffer.toByteArray();
        }

        Path write(Path file) {
            return Fixtures.write(file, bytes());
        }
    }

    static Path write(Path file, byte[] bytes) {
        try {
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] zipOf(String entryName, byte[] content) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(buffer)) {
            zip.putNextEntry(new ZipEntry(entryName));
            zip.write(content);
            zip.closeEntry();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }

    static byte[] floats(float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return buffer.array();
    }

    static byte[] halves(int... bits) {
        ByteBuffer buffer = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int b : bits) {
            buffer.putShort((short) b);
        }
        return buffer.array();
    }

    static byte[] longs(long... values) {
        ByteBuffer buffer = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asLongBuffer().put(values);
        return buffer.array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** Builds a safetensors file: 8-byte little-endian header length, the header, the data. */
    static byte[] safetensors(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        byte[] length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array();
        return concat(length, json, data);
    }
}
