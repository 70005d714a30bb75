package dev.tuna.cli;

import dev.tuna.inference.ModelArtifact;
import dev.tuna.inference.OnnxExport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tuna export}: writes a trained model as an ONNX file for ONNX Runtime or any ONNX consumer. */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description = {"Export a trained model to ONNX (opset 17, dynamic batch size): input 'input' float",
                "[batch, 3, size, size] normalised RGB, outputs 'probabilities' and 'logits'. The classes, input",
                "size, resize method and normalisation are in the model's metadata_props. 'tuna predict' and",
                "'tuna evaluate' run the .onnx file on ONNX Runtime, without libtorch."},
        footer = {"", "Example:", "  tuna export flowers-resnet18.tuna --onnx flowers.onnx",
                "  tuna predict flowers.onnx photo.jpg"})
final class ExportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<model>", description = "A model artifact folder written by 'tuna train'.")
    Path model;

    @Option(names = "--onnx", required = true, paramLabel = "<file>", description = "The .onnx file to write.")
    Path onnx;

    @Option(names = "--force", description = "Replace the file if it exists.")
    boolean force;

    @Mixin
    EngineOptions engine;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        engine.apply();
        ModelArtifact artifact = ModelArtifact.read(model);
        OnnxExport.write(artifact, onnx, force);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "Wrote %s (%s, %d classes, %d px, %.1f MB)%n", onnx,
                artifact.metadata().architecture().id(), artifact.metadata().classes().size(),
                artifact.metadata().inputSize(), Files.size(onnx) / 1e6);
        out.flush();
        return TunaCommand.OK;
    }
}
