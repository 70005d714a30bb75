package dev.tuna.data;

import java.nio.file.Path;

/**
 * One labelled image file of a dataset.
 *
 * @param path the file
 * @param relativePath the path below the dataset root, with '/' separators (stable on every OS)
 * @param label the class: the name of the folder that contains the file
 */
public record ImageItem(Path path, String relativePath, String label) {}
