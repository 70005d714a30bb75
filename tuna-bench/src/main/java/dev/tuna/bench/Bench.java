package dev.tuna.bench;

/** Placeholder replaced below. */
final class Bench {
    private Bench() {}
}
