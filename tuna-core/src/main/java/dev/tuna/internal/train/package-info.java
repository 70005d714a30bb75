/**
 * Engine adapters for training (not API): fast.ai's Adam on DJL arrays.
 *
 * <pre>{@code
 * FastAdam adam = new FastAdam(manager, FastAdam.Settings.FASTAI);
 * adam.step(slots, new double[] {1e-4, 1e-4, 1e-3}, 0.95);
 * }</pre>
 */
package dev.tuna.internal.train;
