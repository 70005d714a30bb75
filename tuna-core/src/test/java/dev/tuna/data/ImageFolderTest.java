package dev.tuna.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tuna.TunaException;
import dev.tuna.testing.Datasets;
import dev.tuna.testing.Images;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir
    Path dir;

    @Test
    void labelsAreParentFoldersAndVocabularyIsSorted() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("zebra", 2);
        counts.put("ant", 3);
        Datasets.folder(dir, counts);
        Images.writeJpeg(dir.resolve("bee/deeper/nested.jpg"), 8, 8, 99);
        ImageList list = ImageFolder.from(dir).scan();
        assertThat(list.classes()).containsExactly("ant", "deeper", "zebra");
        assertThat(list.items()).extracting(ImageItem::relativePath).containsExactly(
                "ant/img000.jpg", "ant/img001.jpg", "ant/img002.jpg", "bee/deeper/nested.jpg",
                "zebra/img000.jpg", "zebra/img001.jpg");
        assertThat(list.items().get(3).label()).isEqualTo("deeper");
        assertThat(list.countsPerClass()).containsEntry("ant", 3).containsEntry("zebra", 2);
        assertThat(list.targets()).containsExactly(0, 0, 0, 1, 2, 2);
    }

    @Test
    void recognisesImagesByContentAndSortsOutDebris() throws Exception {
        Datasets.folder(dir, Map.of("cat", 2, "dog", 2));
        Images.write(dir.resolve("cat/really-a-png.jpg"), Images.encode(Images.solid(4, 4, 0x123456), "png"));
        Images.write(dir.resolve("dog/no-extension"), Images.encode(Images.solid(4, 4, 0x654321), "bmp"));
        Images.write(dir.resolve("dog/notes.png"), "this is text".getBytes());
        Images.write(dir.resolve("dog/readme.txt"), "text".getBytes());
        Images.write(dir.resolve("dog/empty.jpg"), new byte[0]);
        Images.write(dir.resolve("dog/.hidden.jpg"), Images.jpeg(Images.solid(4, 4, 0)));
        Images.write(dir.resolve("__MACOSX/dog/._x.jpg"), new byte[] {0, 5, 22, 7});
        Images.write(dir.resolve(".DS_Store"), new byte[] {0, 0, 0, 1});
        Images.writeJpeg(dir.resolve("stray.jpg"), 4, 4, 1);
        Files.createDirectories(dir.resolve("empty-class"));
        ImageList list = ImageFolder.from(dir).scan();
        assertThat(list.items()).extracting(ImageItem::relativePath)
                .contains("cat/really-a-png.jpg", "dog/no-extension").hasSize(6);
        assertThat(list.unreadable()).extracting(s -> s.path().getFileName().toString() + ": " + s.reason())
                .containsExactly("empty.jpg: empty file (0 bytes)",
                        "notes.png: not an image: content is not " + ImageFormat.NAMES);
        assertThat(list.ignored()).extracting(SkippedFile::reason).contains("hidden file",
                "macOS archive metadata folder", "not an image file", "image is not inside a class folder");
        assertThat(list.warnings()).containsExactly("class folder 'empty-class' has no usable images; it is left out");
    }

    @Test
    void followsSymlinksButNotLoops() throws Exception {
        Datasets.folder(dir.resolve("data"), Map.of("a", 1, "b", 1));
        Files.createSymbolicLink(dir.resolve("data/a/loop"), dir.resolve("data/a"));
        ImageList list = ImageFolder.from(dir.resolve("data")).scan();
        assertThat(list.items()).hasSize(2);
        assertThat(list.ignored()).extracting(SkippedFile::reason).contains("symbolic link loop (already visited)");
    }

    @Test
    void missingEmptyAndSingleClassFoldersFailWithGuidance() throws Exception {
        assertThatThrownBy(() -> ImageFolder.from(dir.resolve("nope")).dataloaders())
                .isInstanceOf(TunaException.class).hasMessageStartingWith("Folder not found: ")
                .hasMessageContaining("one sub-folder per class")
                .satisfies(e -> assertThat(((TunaException) e).kind()).isEqualTo(TunaException.Kind.BAD_DATA));
        Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> ImageFolder.from(dir.resolve("empty")).dataloaders())
                .hasMessageStartingWith("No images found under ");
        Images.writeJpeg(dir.resolve("flat/1.jpg"), 8, 8, 1);
        assertThatThrownBy(() -> ImageFolder.from(dir.resolve("flat")).dataloaders())
                .hasMessageContaining("Found 1 images directly in").hasMessageContaining("but no class folders");
        Datasets.folder(dir.resolve("one"), Map.of("daisy", 3));
        assertThatThrownBy(() -> ImageFolder.from(dir.resolve("one")).dataloaders())
                .hasMessageStartingWith("Found only one class ('daisy', 3 images)")
                .hasMessageContaining("at least two classes");
        Path file = Images.writeJpeg(dir.resolve("file.jpg"), 8, 8, 1);
        assertThatThrownBy(() -> ImageFolder.from(file).dataloaders()).hasMessageStartingWith("Not a folder: ");
    }

    @Test
    void aClassWithoutTrainingImagesIsAnError() {
        Datasets.folder(dir, Map.of("big", 20, "tiny", 1));
        // with everything in validation, 'tiny' has nothing to learn from
        assertThatThrownBy(() -> ImageFolder.from(dir).split(Splitter.firstPerClass(1)).dataloaders())
                .isInstanceOf(TunaException.class)
                .hasMessageStartingWith("Class 'tiny' in ")
                .hasMessageContaining("has 1 usable image, none of which is left for training");
    }

    @Test
    void fixedVocabularyRejectsUnknownClasses() {
        Datasets.folder(dir, Map.of("cat", 1, "emu", 1));
        assertThatThrownBy(() -> ImageFolder.from(dir).vocabulary(java.util.List.of("cat", "dog")).dataloaders())
                .hasMessageContaining("classes the model does not know: [emu]");
    }
}
