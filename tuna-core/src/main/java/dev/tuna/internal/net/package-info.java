/**
 * Network helpers (not API).
 *
 * <pre>{@code
 * String sha256 = Downloads.fetch("https://example.org/file", Path.of("file.part"), ProgressListener.NONE);
 * }</pre>
 */
package dev.tuna.internal.net;
