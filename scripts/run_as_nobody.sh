#!/usr/bin/env bash
# Runs tests as the unprivileged user nobody, for the checks that root defeats (root reads a file
# whatever its mode). Usage, as root, after the project has been built: scripts/run_as_nobody.sh <module> <test>
# e.g. scripts/run_as_nobody.sh tuna-core 'BadInputCatalogueTest#fileWithoutReadPermission*'.
# nobody cannot read /root, so the tests run in a copy of the working tree with a copy of the local Maven
# repository (hard links where the file system allows, directories made traversable); the copy is
# removed afterwards. Fails if any of the tests is skipped there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
module="$1"
tests="$2"
[ "$(id -u)" = 0 ] || { echo "run_as_nobody.sh: run it as root (it switches to nobody)" >&2; exit 1; }
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT
chmod 755 "$copy"
mkdir "$copy/repo" "$copy/home"
tar -C . --exclude=./.git --exclude=./.tuna-engine-cache -cf - . | tar -C "$copy/repo" -xf -
rm -rf "$copy"/repo/*/target/surefire-reports
repository="${MAVEN_REPOSITORY:-$HOME/.m2/repository}"
cp -al "$repository" "$copy/m2" 2>/dev/null || cp -a "$repository" "$copy/m2"
find "$copy/m2" -type d -exec chmod 755 {} +
find "$copy/m2" -type d -exec chown nobody: {} +
chown -R nobody: "$copy/repo" "$copy/home"
(cd "$copy/repo" && setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$copy/home" \
    mvn -B -o -q test -pl "$module" -Dmaven.repo.local="$copy/m2" -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false)
python3 scripts/check_skips.py "$copy/repo/$module/target/surefire-reports"
