package dev.tuna.model;

import java.util.List;

/**
 * What {@link Network#load} did.
 *
 * @param loaded parameter names set from the file
 * @param missing network parameters the file does not have
 * @param unexpected file tensors the network does not have (excluding {@code num_batches_tracked})
 * @param mismatched names present in both with different shapes, as "name: file [..] vs network [..]"
 */
public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected, List<String> mismatched) {
    /**
     * Copies the lists.
     *
     * @param loaded parameter names set from the file
     * @param missing network parameters the file does not have
     * @param unexpected file tensors the network does not have (excluding {@code num_batches_tracked})
     * @param mismatched names present in both with different shapes, as "name: file [..] vs network [..]"
     */
    public LoadReport {
        loaded = List.copyOf(loaded);
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        mismatched = List.copyOf(mismatched);
    }
}
