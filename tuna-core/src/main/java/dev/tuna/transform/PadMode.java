package dev.tuna.transform;

/** How {@link ResizeMethod#PAD} fills the border around a letter-boxed image. */
public enum PadMode {
    /** Black borders. */
    ZEROS,
    /** Mirror the image into the border, without repeating the edge pixel (fast.ai's default). */
    REFLECTION
}
