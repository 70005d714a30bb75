package dev.tuna.internal.nn;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.Dropout;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.tuna.TunaException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Translates a network built by {@link Torchvision} (any body, fast.ai's head or torchvision's
 * classifier) into an ONNX graph for inference, by walking its DJL blocks and reading their real
 * weights: evaluation-mode semantics (batch norm with running statistics, no dropout, no stochastic
 * depth), batch norms folded into the convolution before them or the linear layer after them (an affine
 * {@code Mul}/{@code Add} where neither exists), TF "SAME" padding folded into the convolution's pads.
 * Initializers keep torchvision's parameter names. A block it does not know is refused with a
 * {@link TunaException}, never skipped.
 *
 * <p>The graph takes {@code [batch, 3, size, size]} floats (the batch dimension symbolic) and ends in the
 * logits; the caller adds outputs, opset and metadata.
 */
public final class OnnxGraph {
    /** The ONNX operator set the graph uses (LayerNormalization needs 17). */
    public static final int OPSET = 17;
    /** The symbolic name of the batch dimension. */
    public static final String BATCH = "batch";

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Map<Parameter, String> names = new IdentityHashMap<>();
    private final Map<String, String> constants = new java.util.HashMap<>();
    private int counter;

    /** A value in the graph: its name and shape ({@code -1} for the batch axis). */
    private record Value(String name, long[] shape) {
        int rank() {
            return shape.length;
        }
    }

    /**
     * The translated network.
     *
     * @param graph the graph: input, initializers and nodes, without outputs
     * @param logits the name of the value holding the logits {@code [batch, classes]}
     * @param classes the number of outputs
     * @param nodes the number of nodes
     */
    public record Lowered(GraphProto.Builder graph, String logits, int classes, int nodes) {
    }

    private OnnxGraph(Map<String, Parameter> parameters) {
        parameters.forEach((name, parameter) -> names.put(parameter, name));
    }

    /**
     * Translates a network.
     *
     * @param network the network's root block (a {@link Torchvision}-built body and head or classifier)
     * @param parameters its parameters by torchvision name (for the initializers' names)
     * @param input the name of the graph's input
     * @param size the side of the square input in pixels
     * @return the graph and the name of its logits
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) naming a block that cannot be
     *     translated
     */
    public static Lowered lower(Block network, Map<String, Parameter> parameters, String input, int size) {
        OnnxGraph g = new OnnxGraph(parameters);
        long[] shape = {-1, 3, size, size};
        g.graph.setName("tuna").addInput(valueInfo(input, shape));
        Value out = g.emit(network, new Value(input, shape));
        if (out.rank() != 2) {
            throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The network ends in a value of shape "
                    + Arrays.toString(out.shape()) + ", but ONNX export expects logits [batch, classes]; export a"
                    + " classifier built by Tuna.");
        }
        return new Lowered(g.graph, out.name(), (int) out.shape()[1], g.graph.getNodeCount());
    }

    /**
     * Describes a float tensor value of the graph (inputs and outputs), {@code -1} being the batch axis.
     *
     * @param name the value's name
     * @param shape its shape
     * @return the description
     */
    public static ValueInfoProto valueInfo(String name, long[] shape) {
        TensorShapeProto.Builder dims = TensorShapeProto.newBuilder();
        for (long d : shape) {
            dims.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(dims))).build();
    }

    // ------------------------------------------------------------------ blocks

    private Value emit(Block block, Value x) {
        if (block instanceof SequentialBlock) {
            List<Block> flat = new ArrayList<>();
            flatten(block, flat);
            return sequence(flat, x);
        }
        return sequence(List.of(block), x);
    }

    /** Nested sequences are one sequence; this lets a batch norm fold into a convolution one level down. */
    private static void flatten(Block block, List<Block> out) {
        if (block instanceof SequentialBlock) {
            block.getChildren().values().forEach(child -> flatten(child, out));
        } else {
            out.add(block);
        }
    }

    private static boolean identityInInference(Block block) {
        return block instanceof Dropout || block instanceof StochasticDepth;
    }

    /** The index of the next block after {@code i} that does something at inference time. */
    private static int next(List<Block> blocks, int i) {
        int j = i + 1;
        while (j < blocks.size() && identityInInference(blocks.get(j))) {
            j++;
        }
        return j;
    }

    private static Block at(List<Block> blocks, int i) {
        return i < blocks.size() ? blocks.get(i) : null;
    }

    private Value sequence(List<Block> blocks, Value input) {
        Value x = input;
        for (int i = 0; i < blocks.size(); i++) {
            Block block = blocks.get(i);
            if (identityInInference(block)) {
                continue;
            }
            if (block instanceof TfSamePad pad && at(blocks, i + 1) instanceof Conv) {
                int[] h = TfSamePad.amounts(x.shape()[2], pad.kernel(), pad.stride());
                int[] w = TfSamePad.amounts(x.shape()[3], pad.kernel(), pad.stride());
                i++;
                int n = next(blocks, i);
                ObservedBatchNorm bn = at(blocks, n) instanceof ObservedBatchNorm b ? b : null;
                x = conv((Conv) blocks.get(i), bn, x, new long[] {h[0], w[0], h[1], w[1]});
                i = bn == null ? i : n;
            } else if (block instanceof Conv conv) {
                int n = next(blocks, i);
                ObservedBatchNorm bn = at(blocks, n) instanceof ObservedBatchNorm b ? b : null;
                long p = conv.getPadding().get(0);
                x = conv(conv, bn, x, new long[] {p, p, p, p});
                i = bn == null ? i : n;
            } else if (block instanceof ObservedBatchNorm bn) {
                int n = next(blocks, i);
                if (at(blocks, n) instanceof CheckedLinear linear && x.rank() == 2) {
                    x = linear(linear, bn, x);
                    i = n;
                } else {
                    x = affine(bn, x);
                }
            } else {
                x = single(block, x);
            }
        }
        return x;
    }

    private Value single(Block block, Value x) {
        if (block instanceof SequentialBlock) {
            return emit(block, x);
        }
        if (block instanceof CheckedLinear linear) {
            return linear(linear, null, x);
        }
        if (block instanceof Op op) {
            return op(op, x);
        }
        if (block instanceof Relu6) {
            return node("Clip", x.shape(), x.name(), scalar(0f), scalar(6f));
        }
        if (block instanceof Residual residual) {
            Value main = emit(residual.main(), x);
            Value shortcut = residual.shortcut() == null ? x : emit(residual.shortcut(), x);
            Value sum = node("Add", main.shape(), main.name(), shortcut.name());
            return residual.relu() ? node("Relu", sum.shape(), sum.name()) : sum;
        }
        if (block instanceof SqueezeExcitation se) { // torchvision's, with EfficientNet's SiLU
            long[] column = {-1, x.shape()[1], 1, 1};
            Value pooled = node("GlobalAveragePool", column, x.name());
            Value reduced = silu(emit(se.fc1(), pooled));
            Value expanded = emit(se.fc2(), reduced);
            Value gate = node("Sigmoid", expanded.shape(), expanded.name());
            return node("Mul", x.shape(), x.name(), gate.name());
        }
        if (block instanceof CheckedLayerNorm norm) {
            return layerNorm(norm, x);
        }
        if (block instanceof LayerScale scale) {
            return node("Mul", x.shape(), x.name(), initializer(scale.scale()));
        }
        if (block instanceof Concat concat) {
            List<Value> parts = new ArrayList<>();
            for (Block branch : concat.getChildren().values()) {
                parts.add(emit(branch, x));
            }
            long[] shape = parts.get(0).shape().clone();
            shape[1] = parts.stream().mapToLong(v -> v.shape()[1]).sum();
            return node("Concat", shape, parts.stream().map(Value::name).toArray(String[]::new),
                    integer("axis", 1));
        }
        throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "ONNX export does not know the layer "
                + block.getClass().getName() + "; it exports the networks Tuna builds ("
                + "ResNet, MobileNetV2, ConvNeXt, EfficientNet with fast.ai's head). Report the model to Tuna's"
                + " maintainers.");
    }

    private Value op(Op op, Value x) {
        long[] s = x.shape();
        return switch (op.kind()) {
            case RELU -> node("Relu", s, x.name());
            case SILU -> silu(x);
            case GELU -> gelu(x);
            case STEM_MAX_POOL -> node("MaxPool", new long[] {s[0], s[1], (s[2] + 2 - 3) / 2 + 1,
                (s[3] + 2 - 3) / 2 + 1}, new String[] {x.name()}, ints("kernel_shape", 3, 3), ints("strides", 2, 2),
                    ints("pads", 1, 1, 1, 1));
            case GLOBAL_MAX_POOL -> flatten(node("GlobalMaxPool", new long[] {s[0], s[1], 1, 1}, x.name()));
            case GLOBAL_AVG_POOL -> flatten(node("GlobalAveragePool", new long[] {s[0], s[1], 1, 1}, x.name()));
            case FLATTEN -> flatten(x);
            case PERMUTE -> {
                int[] axes = op.axes();
                long[] shape = new long[axes.length];
                long[] perm = new long[axes.length];
                for (int i = 0; i < axes.length; i++) {
                    shape[i] = s[axes[i]];
                    perm[i] = axes[i];
                }
                yield node("Transpose", shape, new String[] {x.name()}, ints("perm", perm));
            }
        };
    }

    private Value flatten(Value x) {
        long features = 1;
        for (int i = 1; i < x.rank(); i++) {
            features *= x.shape()[i];
        }
        return node("Flatten", new long[] {-1, features}, new String[] {x.name()}, integer("axis", 1));
    }

    private Value silu(Value x) {
        Value gate = node("Sigmoid", x.shape(), x.name());
        return node("Mul", x.shape(), x.name(), gate.name());
    }

    /** Exact GELU, {@code x · (1 + erf(x / √2)) / 2} (ONNX has no Gelu operator before opset 20). */
    private Value gelu(Value x) {
        long[] s = x.shape();
        Value scaled = node("Div", s, x.name(), scalar((float) Math.sqrt(2)));
        Value erf = node("Erf", s, scaled.name());
        Value onePlus = node("Add", s, erf.name(), scalar(1f));
        Value product = node("Mul", s, x.name(), onePlus.name());
        return node("Mul", s, product.name(), scalar(0.5f));
    }

    private Value layerNorm(CheckedLayerNorm norm, Value x) {
        String scale = initializer(norm.weight());
        String bias = initializer(norm.bias());
        AttributeProto eps = floatAttribute("epsilon", norm.eps());
        if (!norm.channelsFirst()) {
            return node("LayerNormalization", x.shape(), new String[] {x.name(), scale, bias}, integer("axis", -1), eps);
        }
        long[] s = x.shape();
        long[] last = {s[0], s[2], s[3], s[1]};
        Value t = node("Transpose", last, new String[] {x.name()}, ints("perm", 0, 2, 3, 1));
        Value normed = node("LayerNormalization", last, new String[] {t.name(), scale, bias}, integer("axis", -1), eps);
        return node("Transpose", s, new String[] {normed.name()}, ints("perm", 0, 3, 1, 2));
    }

    /** A convolution, with the batch norm that follows it (if any) folded into its weight and bias. */
    private Value conv(Conv conv, ObservedBatchNorm bn, Value x, long[] pads) {
        Parameter weight = conv.getParameters().get("weight");
        Parameter biasParameter = conv.getParameters().get("bias");
        String prefix = prefix(weight);
        long[] wShape = weight.getArray().getShape().getShape();
        float[] w = weight.getArray().toFloatArray();
        int out = (int) wShape[0];
        float[] b = biasParameter == null ? new float[out] : biasParameter.getArray().toFloatArray();
        if (bn != null) {
            double[][] st = scaleShift(bn);
            int per = w.length / out;
            for (int o = 0; o < out; o++) {
                for (int k = 0; k < per; k++) {
                    w[o * per + k] = (float) (w[o * per + k] * st[0][o]);
                }
                b[o] = (float) (b[o] * st[0][o] + st[1][o]);
            }
            prefix = prefix + "+" + prefix(bn.parameter("gamma"));
        }
        List<String> inputs = new ArrayList<>(List.of(x.name(), tensor(prefix + ".weight", wShape, w)));
        if (bn != null || biasParameter != null) {
            inputs.add(tensor(prefix + ".bias", new long[] {out}, b));
        }
        long kernel = conv.getKernelShape().get(0);
        long stride = conv.getStride().get(0);
        long[] s = x.shape();
        long[] shape = {s[0], out, (s[2] + pads[0] + pads[2] - kernel) / stride + 1,
            (s[3] + pads[1] + pads[3] - kernel) / stride + 1};
        return node("Conv", shape, inputs.toArray(String[]::new), ints("kernel_shape", kernel, kernel),
                ints("strides", stride, stride), ints("pads", pads), integer("group", conv.getGroups()));
    }

    /**
     * A linear layer over the last axis, with the batch norm before it (if any) folded in:
     * {@code W (s·x + t) + b = (W·diag(s)) x + (W t + b)}.
     */
    private Value linear(CheckedLinear linear, ObservedBatchNorm bn, Value x) {
        Parameter weight = linear.getParameters().get("weight");
        Parameter biasParameter = linear.getParameters().get("bias");
        String prefix = prefix(weight);
        long[] wShape = weight.getArray().getShape().getShape();
        int out = (int) wShape[0];
        int in = (int) wShape[1];
        float[] w = weight.getArray().toFloatArray();
        double[] b = new double[out];
        if (biasParameter != null) {
            float[] given = biasParameter.getArray().toFloatArray();
            for (int o = 0; o < out; o++) {
                b[o] = given[o];
            }
        }
        if (bn != null) {
            double[][] st = scaleShift(bn);
            for (int o = 0; o < out; o++) {
                double shift = 0;
                for (int i = 0; i < in; i++) {
                    shift += w[o * in + i] * st[1][i];
                    w[o * in + i] = (float) (w[o * in + i] * st[0][i]);
                }
                b[o] += shift;
            }
            prefix = prefix(bn.parameter("gamma")) + "+" + prefix;
        }
        float[] transposed = new float[w.length]; // [in, out], so that x · W works on any rank
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                transposed[i * out + o] = w[o * in + i];
            }
        }
        long[] shape = x.shape().clone();
        shape[shape.length - 1] = out;
        Value product = node("MatMul", shape, x.name(), tensor(prefix + ".weight_t", new long[] {in, out},
                transposed));
        if (bn == null && biasParameter == null) {
            return product;
        }
        float[] bias = new float[out];
        for (int o = 0; o < out; o++) {
            bias[o] = (float) b[o];
        }
        return node("Add", shape, product.name(), tensor(prefix + ".bias", new long[] {out}, bias));
    }

    /** A batch norm with no convolution or linear layer to fold into: {@code x · s + t} per channel. */
    private Value affine(ObservedBatchNorm bn, Value x) {
        double[][] st = scaleShift(bn);
        int c = st[0].length;
        long[] dims = x.rank() == 4 ? new long[] {c, 1, 1} : new long[] {c};
        String prefix = prefix(bn.parameter("gamma"));
        Value scaled = node("Mul", x.shape(), x.name(), tensor(prefix + ".scale", dims, floats(st[0])));
        return node("Add", x.shape(), scaled.name(), tensor(prefix + ".shift", dims, floats(st[1])));
    }

    /** A batch norm in evaluation mode as {@code x · s + t}: {@code s = γ / √(var + ε)}, {@code t = β − mean · s}. */
    private static double[][] scaleShift(ObservedBatchNorm bn) {
        float[] gamma = bn.parameter("gamma").getArray().toFloatArray();
        float[] beta = bn.parameter("beta").getArray().toFloatArray();
        float[] mean = bn.parameter("runningMean").getArray().toFloatArray();
        float[] var = bn.parameter("runningVar").getArray().toFloatArray();
        double[] scale = new double[gamma.length];
        double[] shift = new double[gamma.length];
        for (int c = 0; c < gamma.length; c++) {
            scale[c] = gamma[c] / Math.sqrt((double) var[c] + Torchvision.BN_EPS);
            shift[c] = beta[c] - mean[c] * scale[c];
        }
        return new double[][] {scale, shift};
    }

    private static float[] floats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    // ------------------------------------------------------------------ protobuf

    /** The torchvision name of a parameter without its last component, e.g. {@code layer1.0.conv1}. */
    private String prefix(Parameter parameter) {
        String name = names.get(parameter);
        if (name == null) {
            throw new IllegalStateException("a parameter of the network has no torchvision name");
        }
        return name.substring(0, name.lastIndexOf('.'));
    }

    private String initializer(Parameter parameter) {
        String name = names.get(parameter);
        if (name == null) {
            throw new IllegalStateException("a parameter of the network has no torchvision name");
        }
        return tensor(name, parameter.getArray().getShape().getShape(), parameter.getArray().toFloatArray());
    }

    private String scalar(float value) {
        return constants.computeIfAbsent(Float.toString(value),
                key -> tensor("const." + key, new long[0], new float[] {value}));
    }

    private String tensor(String name, long[] dims, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        TensorProto.Builder tensor = TensorProto.newBuilder().setName(name)
                .setDataType(TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(bytes.array()));
        for (long d : dims) {
            tensor.addDims(d);
        }
        graph.addInitializer(tensor);
        return name;
    }

    private Value node(String op, long[] shape, String... inputs) {
        return node(op, shape, inputs, new AttributeProto[0]);
    }

    private Value node(String op, long[] shape, String[] inputs, AttributeProto... attributes) {
        String output = op.toLowerCase(java.util.Locale.ROOT) + "_" + counter++;
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(output).addOutput(output);
        for (String input : inputs) {
            node.addInput(input);
        }
        for (AttributeProto attribute : attributes) {
            node.addAttribute(attribute);
        }
        graph.addNode(node);
        return new Value(output, shape);
    }

    private static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder attribute = AttributeProto.newBuilder().setName(name)
                .setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            attribute.addInts(v);
        }
        return attribute.build();
    }

    private static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static AttributeProto floatAttribute(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value)
                .build();
    }
}
