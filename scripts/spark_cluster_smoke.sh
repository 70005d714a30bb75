#!/usr/bin/env bash
# Runs dev.tuna.spark.Predict on a real Spark cluster on this machine — a standalone master, a worker and its
# executor JVM, apart from the driver — so that the model really travels from the driver (zip + broadcast),
# the executor has nothing but Spark's own jars and tuna-spark.jar (libtorch inside), and the output is
# checked file by file: one row per input file, the label the single JVM gives (`tuna predict --csv`).
#
#   scripts/spark_cluster_smoke.sh <model> <folder of images> [<work dir>]
#
# Needs tuna-spark/target/tuna-spark.jar (mvn -B -o package -pl tuna-spark -am -DskipTests) and ./tuna built.
# Spark's jars come from the local Maven repository (tuna-spark's provided dependencies), laid out as a
# SPARK_HOME whose jars/ the worker builds the executor's class path from, as a Spark distribution has.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$(realpath "$1")"
input="$(realpath "$2")"
work="${3:-$(mktemp -d)}"
mkdir -p "$work"
work="$(realpath "$work")"
jar="$here/tuna-spark/target/tuna-spark.jar"
[ -f "$jar" ] || { echo "spark_cluster_smoke: build $jar first (mvn -B -o package -pl tuna-spark -am -DskipTests)" >&2; exit 2; }
opens="$(sed -n 's:.*<spark.java17.opens>\(.*\)</spark.java17.opens>.*:\1:p' "$here/tuna-spark/pom.xml")"

# Spark's own jars as a SPARK_HOME
(cd "$here" && mvn -B -o -q dependency:build-classpath -pl tuna-spark -Dmdep.includeScope=provided \
    -Dmdep.outputFile="$work/spark-classpath.txt")
mkdir -p "$work/spark/jars" "$work/worker" "$work/engine"
tr ':' '\n' < "$work/spark-classpath.txt" | while read -r j; do [ -n "$j" ] && ln -sf "$j" "$work/spark/jars/"; done
export SPARK_HOME="$work/spark" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
port=$((20000 + RANDOM % 20000))
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# shellcheck disable=SC2086
java $opens -Xmx512m -cp "$work/spark/jars/*" org.apache.spark.deploy.master.Master --host 127.0.0.1 \
    --port "$port" --webui-port $((port + 1)) > "$work/master.log" 2>&1 &
pids+=($!)
# shellcheck disable=SC2086
java $opens -Xmx512m -cp "$work/spark/jars/*" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 \
    --cores 2 --memory 4g --work-dir "$work/worker" --webui-port $((port + 2)) "spark://127.0.0.1:$port" \
    > "$work/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  grep -q "Successfully registered with master" "$work/worker.log" 2>/dev/null && break
  sleep 1
done
grep -q "Successfully registered with master" "$work/worker.log" || { echo "the worker did not register; see $work/worker.log" >&2; exit 3; }

out="$work/predictions"
start=$(date +%s.%N)
# shellcheck disable=SC2086
java $opens -Xmx2g -Dspark.master="spark://127.0.0.1:$port" -Dspark.jars="$jar" -Dspark.driver.host=127.0.0.1 \
    -Dspark.executor.memory=2g -Dspark.executor.cores=2 -Dspark.ui.enabled=false \
    -Dspark.executor.extraJavaOptions="$opens -Dai.djl.offline=true" \
    -Dspark.executorEnv.OPT_OUT_TRACKING=true -Dspark.executorEnv.ENGINE_CACHE_DIR="$work/engine" \
    -Dai.djl.offline=true -cp "$work/spark/jars/*:$jar" dev.tuna.spark.Predict \
    --model "$model" --input "$input" --output "$out" --format csv > "$work/driver.log" 2>&1 \
    || { tail -50 "$work/driver.log"; echo "the job failed; see $work/driver.log" >&2; exit 5; }
wall=$(echo "$(date +%s.%N) - $start" | bc)
grep "^Predicted" "$work/driver.log"

# the executor ran in its own JVM, under the worker, and loaded the model there
executor_log="$(ls "$work"/worker/app-*/*/stderr | head -1)"
[ -n "$executor_log" ] || { echo "no executor ran under the worker" >&2; exit 4; }

# the same labels as the single JVM, file by file
(cd "$here" && ./tuna predict "$model" "$input" --csv "$work/single.csv" > /dev/null)
python3 - "$out" "$work/single.csv" "$input" <<'PY'
import csv, glob, os, sys, urllib.parse
out, single, folder = sys.argv[1], sys.argv[2], sys.argv[3]
spark = {}
for part in glob.glob(os.path.join(out, "part-*.csv")):
    for row in csv.DictReader(open(part, newline="")):
        spark[os.path.realpath(urllib.parse.unquote(row["path"].replace("file://", "").replace("file:", "")))] = row
jvm = {os.path.realpath(os.path.join(folder, r["path"])): r for r in csv.DictReader(open(single, newline=""))}
files = [os.path.realpath(os.path.join(d, f)) for d, _, fs in os.walk(folder) for f in fs if not f.startswith((".", "_"))]
missing = [f for f in files if f not in spark]
differ = [f for f in files if f in spark and spark[f]["label"] != jvm[f]["label"]]
print(f"cluster: {len(spark)} rows for {len(files)} files; {len(missing)} missing; {len(differ)} labels differ from tuna predict --csv")
sys.exit(1 if missing or differ or len(spark) != len(files) else 0)
PY
echo "executor log: $executor_log"
printf 'Spark standalone cluster (master, worker, 1 executor of 2 cores): %s files in %.1f s (job, start-up included)\n' \
    "$(find "$input" -type f | wc -l)" "$wall"
