package dev.tuna.model.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the readers against files written by real PyTorch, when Debian's {@code /usr/bin/python3} with
 * {@code torch} is installed; skipped otherwise.
 */
class PythonTorchInteropTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final int NO_TORCH = 77;
    private static final String SCRIPT = String.join("\n",
            "import json, sys",
            "try:",
            "    import torch",
            "except ImportError:",
            "    sys.exit(" + NO_TORCH + ")",
            "out = sys.argv[1]",
            "torch.manual_seed(0)",
            "model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3))",
            "sd = model.state_dict()",
            "sd['half'] = torch.tensor([1.0, -2.5, 65504.0, 6e-8, -0.0], dtype=torch.float16)",
            "sd['bf16'] = torch.tensor([1.0, -3.140625], dtype=torch.bfloat16)",
            "sd['int64'] = torch.tensor([2**40 + 3, -7], dtype=torch.int64)",
            "base = torch.randn(3, 4)",
            "sd['base'] = base",
            "sd['transposed'] = base.t()",
            "sd['block'] = base[1:, 1:3]",
            "sd['double'] = torch.tensor([[0.1, 0.2]], dtype=torch.float64).t()",
            "torch.save(sd, out + '/model.pth')",
            "torch.save({'epoch': 3, 'model': {'w': torch.nn.Parameter(base.clone())}}, out + '/checkpoint.pth')",
            "torch.save(sd, out + '/legacy.pth', _use_new_zipfile_serialization=False)",
            "expected = {k: {'dtype': str(v.dtype), 'shape': list(v.shape), 'values': v.flatten().tolist()}",
            "            for k, v in sd.items()}",
            "with open(out + '/expected.json', 'w') as f:",
            "    json.dump(expected, f)");
    private static final Map<String, DType> DTYPES = Map.of("torch.float32", DType.F32, "torch.float16", DType.F16,
            "torch.bfloat16", DType.BF16, "torch.float64", DType.F64, "torch.int64", DType.I64);

    @TempDir
    static Path dir;

    private static JsonObject expected;

    @BeforeAll
    static void saveWithPyTorch() throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), "no " + PYTHON);
        Process process = new ProcessBuilder(PYTHON.toString(), "-c", SCRIPT, dir.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("python.log").toFile())
                .start();
        Assumptions.assumeTrue(process.waitFor(60, TimeUnit.SECONDS), "python did not finish in 60 s");
        Assumptions.assumeTrue(process.exitValue() != NO_TORCH, "torch is not installed for " + PYTHON);
        assertThat(process.exitValue())
                .as(Files.readString(dir.resolve("python.log")))
                .isZero();
        expected = JsonParser.parseString(Files.readString(dir.resolve("expected.json"), StandardCharsets.UTF_8))
                .getAsJsonObject();
    }

    @Test
    void readsExactlyWhatPyTorchSaved() {
        WeightFile weights = WeightFiles.read(dir.resolve("model.pth"));

        assertThat(weights.tensors().keySet()).containsExactlyElementsOf(expected.keySet());
        assertThat(weights.skipped()).isEmpty();
        for (Map.Entry<String, JsonElement> entry : expected.entrySet()) {
            JsonObject spec = entry.getValue().getAsJsonObject();
            Tensor tensor = weights.tensor(entry.getKey());
            JsonArray shape = spec.getAsJsonArray("shape");
            JsonArray values = spec.getAsJsonArray("values");
            assertThat(tensor.dtype()).as(entry.getKey()).isEqualTo(DTYPES.get(spec.get("dtype").getAsString()));
            assertThat(tensor.shape()).as(entry.getKey()).hasSize(shape.size());
            for (int i = 0; i < shape.size(); i++) {
                assertThat(tensor.shape()[i]).as(entry.getKey()).isEqualTo(shape.get(i).getAsLong());
            }
            if (tensor.dtype() == DType.I64) {
                long[] actual = tensor.toLongs();
                for (int i = 0; i < values.size(); i++) {
                    assertThat(actual[i]).as(entry.getKey() + "[" + i + "]").isEqualTo(values.get(i).getAsLong());
                }
            } else {
                double[] actual = tensor.toDoubles();
                assertThat(actual).as(entry.getKey()).hasSize(values.size());
                for (int i = 0; i < values.size(); i++) {
                    assertThat(actual[i]).as(entry.getKey() + "[" + i + "]").isEqualTo(values.get(i).getAsDouble());
                }
            }
        }
        assertThat(weights.tensor("half").toFloats()).startsWith(1.0f, -2.5f, 65504f);
        assertThat(weights.tensor("1.num_batches_tracked").rank()).isZero();
    }

    @Test
    void readsParameterInsideCheckpoint() {
        WeightFile weights = WeightFiles.read(dir.resolve("checkpoint.pth"));

        assertThat(weights.stateDictKey()).contains("model");
        assertThat(weights.tensor("w").toFloats())
                .containsExactly(floats(expected.getAsJsonObject("base").getAsJsonArray("values")));
    }

    @Test
    void rejectsLegacyFileWrittenByPyTorch() {
        Path legacy = dir.resolve("legacy.pth");

        assertThatThrownBy(() -> WeightFiles.read(legacy))
                .hasMessage(legacy + " was saved by PyTorch < 1.6 (legacy format); re-save it with a newer PyTorch:"
                        + " torch.save(torch.load(f), f2)");
    }

    private static float[] floats(JsonArray values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i).getAsFloat();
        }
        return out;
    }
}
