/**
 * Tuna: fine-tune ImageNet-pretrained CNNs on a folder of labelled images.
 *
 * <pre>{@code
 * try (DataLoaders data = ImageFolder.from(Path.of("flowers"))
 *         .split(Splitter.random(0.2, 42))
 *         .resize(192, ResizeMethod.SQUISH)
 *         .dataloaders()) {
 *     System.out.println(data.summary());
 * }
 * }</pre>
 */
package dev.tuna;
