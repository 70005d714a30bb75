/**
 * Using a trained model: the versioned model folder ({@link dev.tuna.inference.ModelArtifact},
 * {@code model.json} plus {@code weights.safetensors}), the safetensors writer, and the
 * thread-safe {@link dev.tuna.inference.Classifier}, and the ONNX export
 * ({@link dev.tuna.inference.OnnxExport}) whose {@code .onnx} file a classifier runs on ONNX Runtime,
 * without libtorch. Depends on {@code model}, {@code data} and {@code transform} only, never on
 * training code.
 *
 * <pre>{@code
 * ModelArtifact.write(Path.of("pets-model"), network, ArtifactMetadata.of(Architecture.RESNET18,
 *         List.of("cat", "dog"), 224, ResizeMethod.SQUISH, PadMode.REFLECTION, Normalization.IMAGENET,
 *         false, HeadSpec.DEFAULT, 42, null), false);
 *
 * try (Classifier classifier = Classifier.load(Path.of("pets-model"))) {
 *     Prediction p = classifier.predict(Path.of("cat.jpg"));
 *     System.out.println(p.label() + " " + p.probability()); // cat 0.97
 *     p.top(2).forEach(c -> System.out.println(c.label() + " " + c.probability()));
 * }
 *
 * OnnxExport.write(ModelArtifact.read(Path.of("pets-model")), Path.of("pets.onnx"));
 * try (Classifier onnx = Classifier.load(Path.of("pets.onnx"))) {        // ONNX Runtime, same predictions
 *     Prediction p = onnx.predict(Path.of("cat.jpg"));
 * }
 * }</pre>
 */
package dev.tuna.inference;
