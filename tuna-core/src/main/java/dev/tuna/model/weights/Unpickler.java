package dev.tuna.model.weights;

import dev.tuna.TunaException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict reader of Python pickles (protocols 2 to 5), limited to the opcodes that
 * {@code torch.save} emits for dicts of tensors.
 *
 * <p>It runs no code: Python globals, persistent ids, {@code REDUCE} and {@code BUILD} are handed to
 * {@link Hooks}, which decide what (little) to allow. Values become Java objects: {@code str} →
 * {@link String}, {@code int} → {@link Long} (or {@link BigInteger} beyond 64 bits), {@code float} →
 * {@link Double}, {@code bool} → {@link Boolean}, {@code None} → {@link PyNone#NONE}, {@code bytes} →
 * {@code byte[]}, {@code tuple} → {@link PyTuple}, {@code list} → {@link ArrayList}, {@code dict} →
 * {@link LinkedHashMap} (insertion order). Every problem becomes a {@link TunaException} naming the
 * source and the byte offset; nothing else escapes.
 */
final class Unpickler {
    /** Python's {@code None}. */
    enum PyNone {
        /** The only value. */
        NONE
    }

    /**
     * A Python tuple.
     *
     * @param items the items (unmodifiable)
     */
    record PyTuple(List<Object> items) {
        PyTuple {
            items = List.copyOf(items);
        }

        int size() {
            return items.size();
        }

        Object get(int index) {
            return items.get(index);
        }
    }

    /** What the unpickler delegates to its owner: all that could otherwise run code. */
    interface Hooks {
        /**
         * Resolves a global ({@code GLOBAL}, {@code STACK_GLOBAL}); must refuse anything not allowed.
         *
         * @param module the module, e.g. {@code "collections"}
         * @param name the name, e.g. {@code "OrderedDict"}
         * @return the value to push
         */
        Object global(String module, String name);

        /**
         * Resolves a persistent id ({@code BINPERSID}).
         *
         * @param pid the id
         * @return the value to push
         */
        Object persistentLoad(Object pid);

        /**
         * Applies a callable to arguments ({@code REDUCE}).
         *
         * @param callable a value from {@link #global}
         * @param args the arguments
         * @return the result
         */
        Object reduce(Object callable, PyTuple args);

        /**
         * Sets an object's state ({@code BUILD}).
         *
         * @param target the object
         * @param state its state
         */
        void build(Object target, Object state);
    }

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(0x80, "PROTO"), Map.entry(0x95, "FRAME"), Map.entry((int) 'c', "GLOBAL"),
            Map.entry(0x93, "STACK_GLOBAL"), Map.entry((int) 'X', "BINUNICODE"), Map.entry(0x8c, "SHORT_BINUNICODE"),
            Map.entry(0x8d, "BINUNICODE8"), Map.entry((int) 'C', "SHORT_BINBYTES"), Map.entry((int) 'B', "BINBYTES"),
            Map.entry(0x8e, "BINBYTES8"), Map.entry((int) 'Q', "BINPERSID"), Map.entry((int) 'J', "BININT"),
            Map.entry((int) 'K', "BININT1"), Map.entry((int) 'M', "BININT2"), Map.entry(0x8a, "LONG1"),
            Map.entry(0x8b, "LONG4"), Map.entry((int) 'G', "BINFLOAT"), Map.entry((int) '}', "EMPTY_DICT"),
            Map.entry((int) ')', "EMPTY_TUPLE"), Map.entry((int) ']', "EMPTY_LIST"), Map.entry((int) 'd', "DICT"),
            Map.entry((int) 'l', "LIST"), Map.entry((int) 't', "TUPLE"), Map.entry(0x85, "TUPLE1"),
            Map.entry(0x86, "TUPLE2"), Map.entry(0x87, "TUPLE3"), Map.entry((int) '(', "MARK"),
            Map.entry((int) 's', "SETITEM"), Map.entry((int) 'u', "SETITEMS"), Map.entry((int) 'a', "APPEND"),
            Map.entry((int) 'e', "APPENDS"), Map.entry((int) 'q', "BINPUT"), Map.entry((int) 'r', "LONG_BINPUT"),
            Map.entry(0x94, "MEMOIZE"), Map.entry((int) 'h', "BINGET"), Map.entry((int) 'j', "LONG_BINGET"),
            Map.entry((int) 'R', "REDUCE"), Map.entry((int) 'b', "BUILD"), Map.entry(0x88, "NEWTRUE"),
            Map.entry(0x89, "NEWFALSE"), Map.entry((int) 'N', "NONE"), Map.entry((int) '0', "POP"),
            Map.entry((int) '1', "POP_MARK"), Map.entry((int) '2', "DUP"), Map.entry((int) '.', "STOP"));

    private static final Map<Integer, String> UNSUPPORTED = Map.ofEntries(
            Map.entry((int) 'i', "INST"), Map.entry((int) 'o', "OBJ"), Map.entry(0x81, "NEWOBJ"),
            Map.entry(0x92, "NEWOBJ_EX"), Map.entry(0x82, "EXT1"), Map.entry(0x83, "EXT2"), Map.entry(0x84, "EXT4"),
            Map.entry((int) 'P', "PERSID"), Map.entry((int) 'I', "INT"), Map.entry((int) 'L', "LONG"),
            Map.entry((int) 'F', "FLOAT"), Map.entry((int) 'S', "STRING"), Map.entry((int) 'T', "BINSTRING"),
            Map.entry((int) 'U', "SHORT_BINSTRING"), Map.entry((int) 'V', "UNICODE"), Map.entry((int) 'p', "PUT"),
            Map.entry((int) 'g', "GET"), Map.entry(0x8f, "EMPTY_SET"), Map.entry(0x90, "ADDITEMS"),
            Map.entry(0x91, "FROZENSET"), Map.entry(0x96, "BYTEARRAY8"), Map.entry(0x97, "NEXT_BUFFER"),
            Map.entry(0x98, "READONLY_BUFFER"));

    private final byte[] bytes;
    private final String source;
    private final Hooks hooks;
    private final List<Object> stack = new ArrayList<>();
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int position;
    private int opcodeStart;
    private String opcodeName = "";

    /**
     * Prepares to read one pickle.
     *
     * @param bytes the pickle
     * @param source what to call it in messages, e.g. {@code "model.pth (entry archive/data.pkl)"}
     * @param hooks what to do with globals, persistent ids, REDUCE and BUILD
     */
    Unpickler(byte[] bytes, String source, Hooks hooks) {
        this.bytes = bytes;
        this.source = source;
        this.hooks = hooks;
    }

    /**
     * Reads the pickle up to its {@code STOP} opcode.
     *
     * @return the pickled object
     */
    Object load() {
        while (true) {
            opcodeStart = position;
            opcodeName = "";
            if (position >= bytes.length) {
                throw corrupt("the data ends after " + bytes.length + " bytes, before its STOP opcode");
            }
            int opcode = (int) unsigned(1);
            opcodeName = NAMES.getOrDefault(opcode, "");
            switch (opcode) {
                case 0x80 -> { // PROTO
                    int version = (int) unsigned(1);
                    if (version > 5) {
                        throw corrupt("pickle protocol " + version + " is unknown (expected 2 to 5)");
                    }
                }
                case 0x95 -> { // FRAME: a buffering hint
                    long length = signed(8);
                    if (length < 0 || length > bytes.length - position) {
                        throw corrupt("a FRAME of " + length + " bytes does not fit in the " + (bytes.length - position)
                                + " bytes left");
                    }
                }
                case 'c' -> { // GLOBAL
                    String module = line();
                    String name = line();
                    push(hooks.global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw corrupt("STACK_GLOBAL needs two strings, found " + describe(module) + " and "
                                + describe(name));
                    }
                    push(hooks.global(m, n));
                }
                case 'X' -> push(string(unsigned(4)));
                case 0x8c -> push(string(unsigned(1)));
                case 0x8d -> push(string(signed(8)));
                case 'C' -> push(rawBytes(unsigned(1)));
                case 'B' -> push(rawBytes(unsigned(4)));
                case 0x8e -> push(rawBytes(signed(8)));
                case 'Q' -> { // BINPERSID
                    push(hooks.persistentLoad(pop()));
                }
                case 'J' -> push(signed(4)); // BININT
                case 'K' -> push(unsigned(1)); // BININT1
                case 'M' -> push(unsigned(2)); // BININT2
                case 0x8a -> push(bigInt((int) unsigned(1)));
                case 0x8b -> { // LONG4
                    long length = signed(4);
                    if (length < 0) {
                        throw corrupt("LONG4 has a negative length " + length);
                    }
                    push(bigInt(length));
                }
                case 'G' -> push(Double.longBitsToDouble(take(8).order(ByteOrder.BIG_ENDIAN).getLong()));
                case '}' -> push(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case ')' -> push(new PyTuple(List.of())); // EMPTY_TUPLE
                case ']' -> push(new ArrayList<Object>()); // EMPTY_LIST
                case 'd' -> { // DICT
                    Map<Object, Object> dict = new LinkedHashMap<>();
                    putPairs(dict, popMark());
                    push(dict);
                }
                case 'l' -> { // LIST
                    push(new ArrayList<>(popMark()));
                }
                case 't' -> { // TUPLE
                    push(new PyTuple(popMark()));
                }
                case 0x85 -> tuple(1);
                case 0x86 -> tuple(2);
                case 0x87 -> tuple(3);
                case '(' -> marks.push(stack.size()); // MARK
                case 's' -> { // SETITEM
                    Object value = pop();
                    Object key = pop();
                    putPairs(dict(), List.of(key, value));
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putPairs(dict(), items);
                }
                case 'a' -> { // APPEND
                    Object value = pop();
                    list().add(value);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    list().addAll(items);
                }
                case 'q' -> memoize(unsigned(1));
                case 'r' -> memoize(unsigned(4));
                case 0x94 -> memoize(memo.size());
                case 'h' -> recall(unsigned(1));
                case 'j' -> recall(unsigned(4));
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    if (!(args instanceof PyTuple tuple)) {
                        throw corrupt("REDUCE needs a tuple of arguments, found " + describe(args));
                    }
                    push(hooks.reduce(callable, tuple));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    hooks.build(peek(), state);
                }
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'N' -> push(PyNone.NONE); // NONE
                case '0' -> { // POP
                    pop();
                }
                case '1' -> { // POP_MARK
                    popMark();
                }
                case '2' -> { // DUP
                    push(peek());
                }
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw corrupt("STOP with " + stack.size() + " values and " + marks.size()
                                + " marks on the stack (expected exactly one value)");
                    }
                    return stack.get(0);
                }
                default -> {
                    String name = UNSUPPORTED.get(opcode);
                    if (name != null) {
                        throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, source + ": the pickle uses opcode "
                                + name + " (0x" + Integer.toHexString(opcode) + ") at byte " + opcodeStart
                                + ", which torch.save does not write for a state dict and Tuna does not read;"
                                + " save only the tensors: torch.save(model.state_dict(), 'weights.pth')");
                    }
                    throw corrupt("0x" + Integer.toHexString(opcode) + " is not a pickle opcode");
                }
            }
        }
    }

    /**
     * Describes a value briefly, for messages.
     *
     * @param value an unpickled value
     * @return e.g. {@code "an int (42)"}
     */
    static String describe(Object value) {
        if (value instanceof String s) {
            return "a str ('" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "')";
        } else if (value instanceof Long || value instanceof BigInteger) {
            return "an int (" + value + ")";
        } else if (value instanceof Double) {
            return "a float (" + value + ")";
        } else if (value instanceof Boolean) {
            return "a bool (" + ((Boolean) value ? "True" : "False") + ")";
        } else if (value == PyNone.NONE) {
            return "None";
        } else if (value instanceof byte[] b) {
            return "bytes (" + b.length + " bytes)";
        } else if (value instanceof PyTuple t) {
            return "a tuple of " + t.size() + " items";
        } else if (value instanceof List<?> l) {
            return "a list of " + l.size() + " items";
        } else if (value instanceof Map<?, ?> m) {
            return "a dict of " + m.size() + " entries";
        }
        return "an object (" + value.getClass().getSimpleName() + ")";
    }

    private TunaException corrupt(String problem) {
        String where = "at byte " + opcodeStart + (opcodeName.isEmpty() ? "" : " (" + opcodeName + ")");
        return new TunaException(TunaException.Kind.BAD_MODEL_FILE, source + ": the pickled data is corrupt " + where
                + ": " + problem + "; the file is probably truncated or damaged: download or save it again");
    }

    private void push(Object value) {
        stack.add(value);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) {
            throw corrupt("a value is taken from an empty stack");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) {
            throw corrupt("a value is read from an empty stack");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw corrupt("there is no MARK to collect items from");
        }
        int mark = marks.pop();
        List<Object> top = stack.subList(mark, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private void tuple(int size) {
        Object[] items = new Object[size];
        for (int i = size - 1; i >= 0; i--) {
            items[i] = pop();
        }
        push(new PyTuple(List.of(items)));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict() {
        Object target = peek();
        if (!(target instanceof LinkedHashMap<?, ?>)) {
            throw corrupt("items are added to " + describe(target) + ", not a dict");
        }
        return (Map<Object, Object>) target;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list() {
        Object target = peek();
        if (!(target instanceof ArrayList<?>)) {
            throw corrupt("items are appended to " + describe(target) + ", not a list");
        }
        return (List<Object>) target;
    }

    private void putPairs(Map<Object, Object> dict, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw corrupt("a dict gets an odd number of keys and values (" + items.size() + ")");
        }
        for (int i = 0; i < items.size(); i += 2) {
            Object key = items.get(i);
            if (!isSimpleKey(key) && !(key instanceof PyTuple tuple && tuple.items().stream().allMatch(
                    Unpickler::isSimpleKey))) {
                throw corrupt("a dict key is " + describe(key) + "; expected a str, a number or a tuple of them");
            }
            dict.put(key, items.get(i + 1));
        }
    }

    private static boolean isSimpleKey(Object key) {
        return key instanceof String || key instanceof Long || key instanceof BigInteger || key instanceof Double
                || key instanceof Boolean || key == PyNone.NONE;
    }

    private void memoize(long index) {
        memo.put(index, peek());
    }

    private void recall(long index) {
        Object value = memo.get(index);
        if (value == null) {
            throw corrupt("memo entry " + index + " is read before it is written");
        }
        push(value);
    }

    private ByteBuffer take(long length) {
        if (length < 0 || length > bytes.length - position) {
            throw corrupt("the data ends after " + bytes.length + " bytes, in the middle of this opcode (it needs "
                    + length + " more bytes, " + (bytes.length - position) + " are left)");
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes, position, (int) length).slice().order(ByteOrder.LITTLE_ENDIAN);
        position += (int) length;
        return buffer;
    }

    private long unsigned(int size) {
        ByteBuffer b = take(size);
        return switch (size) {
            case 1 -> b.get() & 0xffL;
            case 2 -> b.getShort() & 0xffffL;
            default -> b.getInt() & 0xffffffffL;
        };
    }

    private long signed(int size) {
        ByteBuffer b = take(size);
        return size == 4 ? b.getInt() : b.getLong();
    }

    private Object bigInt(long length) {
        ByteBuffer b = take(length);
        if (length == 0) {
            return 0L;
        }
        byte[] bigEndian = new byte[(int) length];
        for (int i = 0; i < length; i++) {
            bigEndian[i] = b.get((int) length - 1 - i);
        }
        BigInteger value = new BigInteger(bigEndian);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    private String string(long length) {
        ByteBuffer b = take(length);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(b)
                    .toString();
        } catch (CharacterCodingException e) {
            throw corrupt("a string is not valid UTF-8");
        }
    }

    private byte[] rawBytes(long length) {
        ByteBuffer b = take(length);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private String line() {
        int start = position;
        while (position < bytes.length && bytes[position] != '\n') {
            position++;
        }
        if (position >= bytes.length) {
            throw corrupt("the data ends after " + bytes.length + " bytes, in the middle of a GLOBAL name");
        }
        String text = new String(bytes, start, position - start, StandardCharsets.UTF_8);
        position++;
        return text;
    }
}
