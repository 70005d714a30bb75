package dev.tuna.transform;

/** How an image of any aspect ratio becomes a square of the training size (fast.ai's ResizeMethod). */
public enum ResizeMethod {
    /** Stretch or shrink each axis independently to the target size; nothing is cut off. */
    SQUISH,
    /**
     * Scale the short side to the target size and cut a square from the long side: a random position
     * on the training split, the centre on validation and at inference.
     */
    CROP,
    /** Scale the long side to the target size and fill the borders (see {@link PadMode}). */
    PAD;

    /**
     * Parses a name case-insensitively ("squish", "crop", "pad").
     *
     * @param name the name
     * @return the method
     * @throws IllegalArgumentException naming the accepted values
     */
    public static ResizeMethod parse(String name) {
        for (ResizeMethod method : values()) {
            if (method.name().equalsIgnoreCase(name.trim())) {
                return method;
            }
        }
        throw new IllegalArgumentException(
                "unknown resize method '" + name + "'; expected one of squish, crop, pad");
    }
}
