package dev.tuna.data;

import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.Resize;
import dev.tuna.transform.ResizeMethod;
import dev.tuna.transform.RgbImage;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The presized image store: every item decoded and resized once into compact 8-bit RGB, read by
 * every epoch afterwards. Lives off-heap, in memory or in a memory-mapped temporary file.
 *
 * <p>Built in parallel; after {@link #build} returns it is read-only and safe to read from any thread.
 */
final class ImageCache implements AutoCloseable {
    private static final int CHUNK_BYTES = 256 * 1024 * 1024;

    private final List<ByteBuffer> chunks = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();
    private final boolean onDisk;
    /** Size of each new chunk: the whole estimate for small datasets, so they do not reserve 256 MiB. */
    private final int chunkBytes;
    private final Path directory;
    private final int[] chunk;
    private final int[] offset;
    private final int[] width;
    private final int[] height;
    private final int[] sourceWidth;
    private final int[] sourceHeight;
    private final String[] failure;
    private final ImageFormat[] format;
    private final byte[][] digest;
    private ByteBuffer current;
    private long bytes;

    private ImageCache(int n, boolean onDisk, Path directory, int chunkBytes) {
        this.chunkBytes = chunkBytes;
        this.onDisk = onDisk;
        this.directory = directory;
        chunk = new int[n];
        offset = new int[n];
        width = new int[n];
        height = new int[n];
        sourceWidth = new int[n];
        sourceHeight = new int[n];
        failure = new String[n];
        format = new ImageFormat[n];
        digest = new byte[n][];
    }

    /**
     * Decodes and presizes every item on {@code threads} threads.
     *
     * @param items the items
     * @param size the training size
     * @param method resize method
     * @param padMode pad mode for {@link ResizeMethod#PAD}
     * @param decoder the decoder
     * @param mode where the cache lives
     * @param directory folder for the disk cache (created when needed)
     * @param memoryBudget largest in-memory cache in bytes for {@link CacheMode#AUTO}
     * @param threads decoding threads
     * @param progress receives "decode" progress
     * @return the cache
     */
    static ImageCache build(List<ImageItem> items, int size, ResizeMethod method, PadMode padMode,
            ImageDecoder decoder, CacheMode mode, Path directory, long memoryBudget, int threads,
            ProgressListener progress) {
        long perItem = (long) size * size * 3 * (method == ResizeMethod.CROP ? 2 : 1);
        long estimate = perItem * items.size();
        boolean disk = mode == CacheMode.DISK || (mode == CacheMode.AUTO && estimate > memoryBudget);
        ImageCache cache = new ImageCache(items.size(), disk, directory,
                (int) Math.max(1, Math.min(CHUNK_BYTES, estimate)));
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), runnable -> {
            Thread thread = new Thread(runnable, "tuna-decode");
            thread.setDaemon(true);
            return thread;
        });
        AtomicInteger done = new AtomicInteger();
        AtomicInteger next = new AtomicInteger();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < Math.max(1, threads); t++) {
                futures.add(pool.submit(() -> {
                    MessageDigest sha = dev.tuna.internal.io.Digests.sha256();
                    for (int i = next.getAndIncrement(); i < items.size(); i = next.getAndIncrement()) {
                        cache.load(i, items.get(i).path(), size, method, padMode, decoder, sha);
                        progress.update("decode", done.incrementAndGet(), items.size());
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cache.close();
            throw new TunaException(TunaException.Kind.RUNTIME, "Interrupted while decoding images", e);
        } catch (java.util.concurrent.ExecutionException e) {
            cache.close();
            Throwable cause = e.getCause();
            if (cause instanceof TunaException te) {
                throw te;
            }
            if (cause instanceof OutOfMemoryError) {
                throw new TunaException(TunaException.Kind.RUNTIME, "Out of memory while caching images ("
                        + items.size() + " at " + size + " px). Use the disk cache (CacheMode.DISK) or a"
                        + " smaller size.", cause);
            }
            throw new TunaException(TunaException.Kind.RUNTIME, "Decoding failed: " + cause, cause);
        } finally {
            pool.shutdownNow();
        }
        return cache;
    }

    private void load(int i, Path path, int size, ResizeMethod method, PadMode padMode, ImageDecoder decoder,
            MessageDigest sha) {
        RgbImage image;
        try {
            byte[] encoded = ImageDecoder.readBytes(path);
            digest[i] = sha.digest(encoded);
            image = decoder.decode(encoded);
            format[i] = ImageFormat.sniff(encoded, Math.min(encoded.length, ImageFormat.HEADER_BYTES)).orElse(null);
        } catch (UnreadableImageException e) {
            failure[i] = e.getMessage();
            return;
        }
        sourceWidth[i] = image.width();
        sourceHeight[i] = image.height();
        RgbImage presized = Resize.presize(image, size, method, padMode);
        byte[] pixels = presized.pixels();
        Slot slot = allocate(pixels.length);
        slot.buffer().put(slot.at(), pixels, 0, pixels.length);
        chunk[i] = slot.chunk();
        offset[i] = slot.at();
        width[i] = presized.width();
        height[i] = presized.height();
    }

    private record Slot(ByteBuffer buffer, int chunk, int at) {}

    private synchronized Slot allocate(int length) {
        if (current == null || current.capacity() - current.position() < length) {
            current = newChunk(Math.max(chunkBytes, length));
            chunks.add(current);
        }
        int at = current.position();
        current.position(at + length);
        bytes += length;
        return new Slot(current, chunks.size() - 1, at);
    }

    private ByteBuffer newChunk(int capacity) {
        if (!onDisk) {
            try {
                return ByteBuffer.allocateDirect(capacity);
            } catch (OutOfMemoryError e) {
                throw new TunaException(TunaException.Kind.RUNTIME, "Not enough off-heap memory for the image"
                        + " cache (" + (bytes >> 20) + " MiB used). Use CacheMode.DISK or raise"
                        + " -XX:MaxDirectMemorySize.", e);
            }
        }
        try {
            Files.createDirectories(directory);
            Path file = Files.createTempFile(directory, "tuna-cache-", ".bin");
            file.toFile().deleteOnExit();
            files.add(file);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                return channel.map(FileChannel.MapMode.READ_WRITE, 0, capacity);
            }
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot create the disk image cache in "
                    + directory + ": " + e.getMessage() + ". Choose a writable cache folder with free space.", e);
        }
    }

    /** The memory budget used by {@link CacheMode#AUTO}: a quarter of RAM, within the direct-memory limit. */
    static long defaultMemoryBudget() {
        long physical = Long.MAX_VALUE;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            physical = os.getTotalMemorySize();
        }
        long direct = Runtime.getRuntime().maxMemory(); // HotSpot's default -XX:MaxDirectMemorySize
        return Math.max(0, Math.min(physical / 4, direct - (512L << 20)));
    }

    boolean ok(int i) {
        return failure[i] == null;
    }

    String failure(int i) {
        return failure[i];
    }

    /** The format of a decoded item (null when it failed). */
    ImageFormat format(int i) {
        return format[i];
    }

    int width(int i) {
        return width[i];
    }

    int height(int i) {
        return height[i];
    }

    int sourceWidth(int i) {
        return sourceWidth[i];
    }

    int sourceHeight(int i) {
        return sourceHeight[i];
    }

    byte[] digest(int i) {
        return digest[i];
    }

    boolean onDisk() {
        return onDisk;
    }

    long bytes() {
        return bytes;
    }

    /**
     * Copies item {@code i}'s presized pixels into {@code dst}.
     *
     * @param i the item
     * @param dst at least {@code width(i) * height(i) * 3} bytes
     */
    void read(int i, byte[] dst) {
        chunks.get(chunk[i]).get(offset[i], dst, 0, width[i] * height[i] * 3);
    }

    RgbImage image(int i) {
        byte[] pixels = new byte[width[i] * height[i] * 3];
        read(i, pixels);
        return new RgbImage(width[i], height[i], pixels);
    }

    @Override
    public void close() {
        chunks.clear();
        current = null;
        for (Path file : files) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // best effort: the file is also marked deleteOnExit
            }
        }
        files.clear();
    }
}
