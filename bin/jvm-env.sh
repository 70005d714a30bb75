# Sourced by ./tuna and bench/run: the environment and JVM flags Tuna runs with.
# - no network at run time: libtorch comes from the pytorch-native-cpu jar, extracted once into
#   ~/.cache/tuna/engine (ENGINE_CACHE_DIR); DJL's usage tracking is off.
# - jemalloc with decay disabled when installed: libtorch's many large, short-lived allocations are
#   much faster with it (measured here: +40% training, +50% inference throughput); large requests
#   share the ordinary arenas (oversize_threshold:0), which keeps the retained pages from creeping
#   up epoch after epoch (RSS growth over a run +15.6% -> +3.1%, BENCHMARKS.md).
TUNA_HOME="${TUNA_HOME:-$HOME/.cache/tuna}"
export TUNA_HOME
export OPT_OUT_TRACKING=true
# libtorch prints a one-time deprecation warning from inside DJL's JNI layer; keep its log to errors.
export TORCH_CPP_LOG_LEVEL="${TORCH_CPP_LOG_LEVEL:-ERROR}"
# The natives live in the user's cache, not in $TUNA_HOME, which may be a shared read-only folder.
export ENGINE_CACHE_DIR="${ENGINE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tuna/engine}"

tuna_jemalloc=""
for candidate in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 \
                 /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2 /usr/local/lib/libjemalloc.so.2; do
  if [ -f "$candidate" ]; then tuna_jemalloc="$candidate"; break; fi
done
if [ -n "$tuna_jemalloc" ] && [ "${TUNA_NO_JEMALLOC:-}" != "1" ]; then
  case ":${LD_PRELOAD:-}:" in
    *":$tuna_jemalloc:"*) ;;
    *) export LD_PRELOAD="$tuna_jemalloc${LD_PRELOAD:+:$LD_PRELOAD}" ;;
  esac
  export MALLOC_CONF="${MALLOC_CONF:-dirty_decay_ms:-1,muzzy_decay_ms:-1,oversize_threshold:0}"
elif [ -z "$tuna_jemalloc" ]; then
  marker="$TUNA_HOME/.jemalloc-note-shown"
  if [ ! -f "$marker" ]; then
    echo "note: jemalloc not found; Tuna runs ~40% slower without it (Debian/Ubuntu: apt-get install libjemalloc2)." >&2
    mkdir -p "$TUNA_HOME" 2>/dev/null && touch "$marker" 2>/dev/null || true
  fi
fi

# A bounded young generation: the Java heap holds little (images and activations live off-heap), and an
# unbounded eden would keep touching fresh pages for gigabytes before its first collection, which
# shows up as resident memory growing epoch after epoch.
TUNA_JVM_OPTS=(-Dai.djl.offline=true -Djava.awt.headless=true -XX:+UseParallelGC -XX:MaxNewSize=256m)
if [ -n "${TUNA_JAVA_OPTS:-}" ]; then
  # shellcheck disable=SC2206
  TUNA_JVM_OPTS+=($TUNA_JAVA_OPTS)
fi
