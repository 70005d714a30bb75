package dev.tuna.cli;

import dev.tuna.transform.ResizeMethod;
import picocli.CommandLine;

/** Option value converters with messages that list the accepted values. */
final class Converters {
    private Converters() {}

    /** Parses squish, crop or pad. */
    static final class Resize implements CommandLine.ITypeConverter<ResizeMethod> {
        @Override
        public ResizeMethod convert(String value) {
            try {
                return ResizeMethod.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
