/**
 * Item transforms: anti-aliased resizing ({@link dev.tuna.transform.ResizeMethod squish, crop, pad})
 * and per-architecture input normalisation.
 *
 * <pre>{@code
 * RgbImage square = Resize.presize(image, 192, ResizeMethod.SQUISH, PadMode.REFLECTION);
 * float x = Normalization.IMAGENET.apply(square.value(0, 0, 0), 0);
 * }</pre>
 */
package dev.tuna.transform;
