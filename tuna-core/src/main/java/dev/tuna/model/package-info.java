/**
 * Architectures built as torchvision builds them (DJL blocks with {@code state_dict} names), the
 * fast.ai head, pretrained-weight loading and its catalogue, and batch-norm recalibration.
 *
 * <pre>{@code
 * try (NDManager manager = NDManager.newBaseManager();
 *      Network net = Network.transfer(Architecture.RESNET18, HeadSpec.DEFAULT, 5, false, manager, 42)) {
 *     Path file = WeightCatalog.standard(ProgressListener.NONE).resolve(PretrainedWeights.RESNET18);
 *     net.load(WeightFiles.read(file), LoadMode.BODY);
 * }
 * }</pre>
 */
package dev.tuna.model;
