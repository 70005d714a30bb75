/**
 * Engine adapters (not API): torchvision architectures as DJL blocks with {@code state_dict} names.
 *
 * <pre>{@code
 * NamedParameters names = new NamedParameters();
 * SequentialBlock resnet18 = new Torchvision(names, false).resnet(new int[] {2, 2, 2, 2}, false, 1000);
 * }</pre>
 */
package dev.tuna.internal.nn;
