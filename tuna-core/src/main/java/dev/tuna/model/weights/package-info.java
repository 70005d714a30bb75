/**
 * Readers for pretrained weight files: PyTorch {@code torch.save} archives ({@code .pth}, {@code .pt};
 * PyTorch 1.6 and later) and safetensors files, into immutable, named {@link
 * dev.tuna.model.weights.Tensor}s. No Python code runs: the pickle inside a {@code .pth} file is read
 * by a strict unpickler that accepts only what a state dict needs.
 *
 * <pre>{@code
 * WeightFile weights = WeightFiles.read(Path.of("resnet18-f37072fd.pth"));
 * Tensor conv1 = weights.tensor("conv1.weight");
 * long[] shape = conv1.shape();      // [64, 3, 7, 7]
 * float[] values = conv1.toFloats(); // C order
 * weights.skipped().forEach((name, what) -> System.out.println("not a tensor: " + name + " = " + what));
 * }</pre>
 */
package dev.tuna.model.weights;
