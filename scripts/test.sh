#!/usr/bin/env bash
# The test command: builds every module and runs all unit (*Test, surefire), integration and e2e (*IT, failsafe) tests.
#   scripts/test.sh [extra mvn args]      e.g. scripts/test.sh -pl e2e -am   or   scripts/test.sh -DskipITs
# e2e tests need root and working `ip netns` (see e2e/README.md); elsewhere they are skipped with the reason printed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=java-home.sh
source scripts/java-home.sh
case " ${MAVEN_OPTS:-} " in
  *" --sun-misc-unsafe-memory-access=allow "*) ;;
  *) export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow" ;;
esac
echo "test.sh: JAVA_HOME=$JAVA_HOME; mvn -B -ntp verify $*"
exec mvn -B -ntp verify "$@"
