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

    /** Parses an architecture name. */
    static final class Arch implements CommandLine.ITypeConverter<dev.tuna.model.Architecture> {
        @Override
        public dev.tuna.model.Architecture convert(String value) {
            try {
                return dev.tuna.model.Architecture.parse(value);
            } catch (dev.tuna.TunaException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** The architecture identifiers, for {@code --arch}'s help text and shell completion. */
    static final class ArchIds implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.Arrays.stream(dev.tuna.model.Architecture.values()).map(dev.tuna.model.Architecture::id)
                    .iterator();
        }
    }

    /** Parses a freeze mode. */
    static final class Freeze implements CommandLine.ITypeConverter<dev.tuna.learn.FreezeMode> {
        @Override
        public dev.tuna.learn.FreezeMode convert(String value) {
            try {
                return dev.tuna.learn.FreezeMode.parse(value);
            } catch (dev.tuna.TunaException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
