/**
 * Engine adapters (not API): torchvision architectures as DJL blocks with {@code state_dict} names.
 *
 * <pre>{@code
 * NamedParameters names = new NamedParameters();
 * SequentialBlock body = new Torchvision(names, false).resnetBody(new int[] {2, 2, 2, 2}, false); // ResNet-18
 * }</pre>
 */
package dev.tuna.internal.nn;
