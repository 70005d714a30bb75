/**
 * File helpers (not API).
 *
 * <pre>{@code
 * String hex = Digests.sha256Hex(Path.of("weights.safetensors"));
 * }</pre>
 */
package dev.tuna.internal.io;
