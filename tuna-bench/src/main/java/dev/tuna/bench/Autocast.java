package dev.tuna.bench;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import dev.tuna.internal.engine.TorchOps;

/**
 * libtorch's CPU autocast to bfloat16, switched on and off for the calling thread: what
 * {@code torch.autocast("cpu", torch.bfloat16)} does, reached through libtorch's exported C++
 * functions because DJL 0.36 has no binding for it. Benchmark only: it measures whether bf16
 * convolutions pay on this CPU (see BENCHMARKS.md); the library does not use it.
 */
final class Autocast {
    private static final byte CPU = 0; // c10::DeviceType::CPU
    private static final byte BFLOAT16 = 15; // c10::ScalarType::BFloat16
    private static Function setEnabled;

    private Autocast() {}

    /**
     * Switches autocast on or off for this thread; the first call sets the dtype to bf16 and turns
     * off the cast cache (weights change every step).
     *
     * @param on whether eligible operations (convolutions, linear layers) run in bf16
     */
    static synchronized void enable(boolean on) {
        if (setEnabled == null) {
            NativeLibrary torch = TorchOps.libtorch();
            torch.getFunction("_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE")
                    .invokeVoid(new Object[] {CPU, BFLOAT16});
            // C++ bool: a Java boolean passed through JNA did not arrive as true here; a byte 0/1 does
            torch.getFunction("_ZN2at8autocast26set_autocast_cache_enabledEb").invokeVoid(new Object[] {(byte) 0});
            setEnabled = torch.getFunction("_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb");
        }
        setEnabled.invokeVoid(new Object[] {CPU, on ? (byte) 1 : (byte) 0});
    }
}
