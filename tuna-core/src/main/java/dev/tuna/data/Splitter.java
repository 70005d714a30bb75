package dev.tuna.data;

import dev.tuna.TunaException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Decides which items are for training and which for validation.
 *
 * <p>Splitters are pure functions of the item list (which {@link ImageFolder} keeps in a stable,
 * sorted order) and their own parameters, so the same folder gives the same split on every run and
 * every operating system.
 */
@FunctionalInterface
public interface Splitter {

    /**
     * Splits a list of items.
     *
     * @param items the dataset's items in their stable order
     * @return the split
     */
    Split split(List<ImageItem> items);

    /**
     * fast.ai's {@code RandomSplitter}: shuffle the indices with a seeded generator and take the first
     * {@code floor(validPct × n)} for validation.
     *
     * @param validPct the validation fraction, in [0, 1)
     * @param seed the seed; the same seed gives the same split
     * @return the splitter
     */
    static Splitter random(double validPct, long seed) {
        if (!(validPct >= 0 && validPct < 1)) {
            throw TunaException.usage(String.format(Locale.ROOT,
                    "The validation fraction must be in [0, 1), e.g. 0.2 for 20%%; found %s.", validPct));
        }
        return items -> {
            int n = items.size();
            int[] order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            // Fisher-Yates with SplittableRandom: its algorithm is fixed by the Java specification.
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            int cut = (int) (validPct * n);
            int[] valid = java.util.Arrays.copyOfRange(order, 0, cut);
            int[] train = java.util.Arrays.copyOfRange(order, cut, n);
            return new Split(train, valid);
        };
    }

    /**
     * fast.ai's {@code GrandparentSplitter}: items under {@code <root>/<trainFolder>/} train and items
     * under {@code <root>/<validFolder>/} validate; anything else is left out.
     *
     * @param trainFolder the first path component of training items, e.g. "train"
     * @param validFolder the first path component of validation items, e.g. "valid"
     * @return the splitter
     */
    static Splitter byFolder(String trainFolder, String validFolder) {
        return items -> {
            List<Integer> train = new ArrayList<>();
            List<Integer> valid = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                String path = items.get(i).relativePath();
                String top = path.substring(0, Math.max(0, path.indexOf('/')));
                if (top.equals(trainFolder)) {
                    train.add(i);
                } else if (top.equals(validFolder)) {
                    valid.add(i);
                }
            }
            if (train.isEmpty() || valid.isEmpty()) {
                throw TunaException.badData("Splitting by folder needs images under both '" + trainFolder
                        + "/' and '" + validFolder + "/'; found " + train.size() + " and " + valid.size()
                        + ". Expected <folder>/" + trainFolder + "/<class>/<image> and <folder>/" + validFolder
                        + "/<class>/<image>, or use a random split.");
            }
            return new Split(toArray(train), toArray(valid));
        };
    }

    /**
     * Holds out the first {@code count} items of every class (in the stable, sorted order) and trains
     * on the rest: the way the reference workflow carved its test folder out of the data.
     *
     * @param count how many items per class go to the held-out (validation) side
     * @return the splitter
     */
    static Splitter firstPerClass(int count) {
        if (count < 0) {
            throw TunaException.usage("The number of held-out images per class must be >= 0; found " + count + ".");
        }
        return items -> {
            Map<String, Integer> taken = new LinkedHashMap<>();
            List<Integer> train = new ArrayList<>();
            List<Integer> held = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                int already = taken.merge(items.get(i).label(), 1, Integer::sum);
                (already <= count ? held : train).add(i);
            }
            return new Split(toArray(train), toArray(held));
        };
    }

    /**
     * Puts every item on the validation side: for evaluating a held-out test folder with the
     * deterministic (validation) transforms.
     *
     * @return the splitter
     */
    static Splitter allValidation() {
        return items -> new Split(new int[0], java.util.stream.IntStream.range(0, items.size()).toArray());
    }

    private static int[] toArray(List<Integer> list) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }
}
