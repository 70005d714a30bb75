/**
 * Engine settings (not API).
 *
 * <pre>{@code
 * Threads.configure(2, 1);
 * }</pre>
 */
package dev.tuna.internal.engine;
