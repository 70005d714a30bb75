/**
 * Image datasets: folder scanning with content sniffing, seeded splits, robust decoding, the
 * presized uint8 cache and prefetching mini-batch loaders.
 *
 * <pre>{@code
 * try (DataLoaders data = ImageFolder.from(Path.of("flowers"))
 *         .split(Splitter.random(0.2, 42))
 *         .resize(192, ResizeMethod.SQUISH)
 *         .batchSize(64)
 *         .dataloaders();
 *      NDManager manager = NDManager.newBaseManager();
 *      BatchIterator batches = data.train().iterate(manager, 0)) {
 *     while (batches.hasNext()) {
 *         try (Batch batch = batches.next()) {
 *             // batch.images(): float32 [64, 3, 192, 192]; batch.labels(): int64 [64]
 *         }
 *     }
 * }
 * }</pre>
 */
package dev.tuna.data;
