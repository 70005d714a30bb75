package dev.tuna.data;

/** Where the presized image cache lives. */
public enum CacheMode {
    /** In memory when the estimated size fits the memory budget, otherwise on disk. */
    AUTO,
    /** Off-heap memory. */
    MEMORY,
    /** A memory-mapped temporary file, deleted when the data loaders are closed. */
    DISK
}
