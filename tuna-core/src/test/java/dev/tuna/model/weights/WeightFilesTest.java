package dev.tuna.model.weights;

import static dev.tuna.model.weights.Fixtures.floats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tuna.TunaException;
import dev.tuna.model.weights.Fixtures.PickleWriter;
import dev.tuna.model.weights.Fixtures.TorchZip;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightFilesTest {
    @TempDir
    Path dir;

    @Test
    void readsTorchSaveArchiveWhateverItsName() {
        byte[] pickle = new PickleWriter().proto().emptyDict()
                .str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}).setItem().stop().bytes();
        Path path = new TorchZip("archive", pickle).storage("0", floats(3)).write(dir.resolve("weights.bin"));

        WeightFile weights = WeightFiles.read(path);

        assertThat(weights.format()).isEqualTo(WeightFile.Format.PTH);
        assertThat(weights.tensor("w").toFloats()).containsExactly(3);
    }

    @Test
    void readsSafetensorsWhateverItsName() {
        Path path = Fixtures.write(dir.resolve("weights.pth"), Fixtures.safetensors(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(4)));

        WeightFile weights = WeightFiles.read(path);

        assertThat(weights.format()).isEqualTo(WeightFile.Format.SAFETENSORS);
        assertThat(weights.tensor("w").toFloats()).containsExactly(4);
    }

    @Test
    void sendsLegacyTorchFilesToThePthReadersMessage() {
        byte[] legacy = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
            0x6a, (byte) 0xa8, 0x50, 0x19, 0x2e};
        Path path = Fixtures.write(dir.resolve("old.pth"), legacy);

        assertThatThrownBy(() -> WeightFiles.read(path))
                .hasMessageContaining("was saved by PyTorch < 1.6 (legacy format); re-save it with a newer PyTorch:"
                        + " torch.save(torch.load(f), f2)");
    }

    @Test
    void namesWhatItFoundInAFileOfAnotherKind() throws Exception {
        Path hdf5 = Fixtures.write(dir.resolve("model.h5"),
                new byte[] {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0, 0});
        Path text = Files.writeString(dir.resolve("README"), "# weights\n");
        Path empty = Fixtures.write(dir.resolve("empty.pth"), new byte[0]);

        assertThatThrownBy(() -> WeightFiles.read(hdf5))
                .isInstanceOf(TunaException.class)
                .hasMessage("expected a .pth (torch.save) or .safetensors file, found an HDF5 file (e.g. a Keras .h5"
                        + " model) at " + hdf5 + "; check the path, or convert the weights in Python:"
                        + " torch.save(model.state_dict(), 'weights.pth')");
        assertThatThrownBy(() -> WeightFiles.read(text))
                .hasMessageStartingWith("expected a .pth (torch.save) or .safetensors file, found a text file of 10"
                        + " bytes starting with \"# weights\\n\" at " + text);
        assertThatThrownBy(() -> WeightFiles.read(empty))
                .hasMessageStartingWith("expected a .pth (torch.save) or .safetensors file, found an empty file");
    }

    @Test
    void reportsDirectoriesAndMissingFiles() {
        assertThatThrownBy(() -> WeightFiles.read(dir))
                .satisfies(e -> assertThat(((TunaException) e).kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE))
                .hasMessage(dir + " is a directory; expected a weight file (.pth or .safetensors): pass the file"
                        + " itself");
        assertThatThrownBy(() -> WeightFiles.read(dir.resolve("missing.safetensors")))
                .hasMessage("weight file " + dir.resolve("missing.safetensors") + " does not exist; check the path");
    }
}
