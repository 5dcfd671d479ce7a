# Sourced by the benchmark scripts (compare.sh, ddp.sh, int8.sh): what they all look up. Messages
# name the script that sourced this ($ME), and every function leaves its answer in a variable.
ME=$(basename "$0")

# Installs the Debian packages given that are missing, as root; otherwise names them and carries
# on, so the later steps fail with their own, more precise, message if it matters.
bench_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ]; then
    echo "$ME: installing ${missing[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "$ME: missing packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  fi
}

# JAVA: the JDK the Maven wrapper and toolchain pick, the first /usr/lib/jvm/*25* with bin/java.
bench_jdk() {
  JAVA=
  local d
  for d in /usr/lib/jvm/*25*; do
    if [ -x "$d/bin/java" ]; then JAVA=$d/bin/java; break; fi
  done
  [ -n "$JAVA" ] || { echo "$ME: no JDK 25 under /usr/lib/jvm (apt-get install temurin-25-jdk)" >&2; exit 1; }
}

# PYTHON: a python3 that imports torch and numpy. Debian's python3-torch lives under
# /usr/bin/python3, which a pyenv/venv python3 on PATH hides.
bench_torch_python() {
  PYTHON=
  local py
  for py in /usr/bin/python3 "$(command -v python3 || true)"; do
    if [ -n "$py" ] && "$py" -c 'import torch, numpy' 2>/dev/null; then PYTHON=$py; break; fi
  done
  [ -n "$PYTHON" ] || { echo "$ME: no python3 can import torch and numpy (apt-get install python3-torch)" >&2; exit 1; }
}

# CP: module $1's classes and runtime classpath (the second argument, once a work directory for
# it, is ignored). See bench_classpaths.
bench_classpath() {
  bench_classpaths "$1" || return
  local v="CP_$1"
  CP=${!v}
}

# CP_<module> for each module of the comma-separated list $1 (simple names such as examples and
# bench): its classes and runtime classpath, all built in one reactor so that sibling modules
# resolve to this build's jars (a separate '-pl' run would look for them in ~/.m2). Each module
# writes its classpath into its own target/. Returns the build's status.
bench_classpaths() {
  echo "$ME: building Kiln ..." >&2
  ./mvnw -q -pl "$1" -am package dependency:build-classpath -DskipTests \
    -Dmdep.includeScope=runtime -Dmdep.outputFile=target/kiln-classpath.txt >&2 || return
  local m
  for m in ${1//,/ }; do printf -v "CP_$m" '%s' "$m/target/classes:$(cat "$m/target/kiln-classpath.txt")"; done
}

# How much of the machine other processes took while the runs ran: bench_load_start before them,
# bench_load_report after, which prints the share of the CPUs busy outside this script and its
# finished children, and the share the hypervisor stole. Reads /proc/stat and the script's own
# /proc entry (CPU ticks: busy, stolen, all; own children's user + system).
bench_machine_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
bench_own_ticks() { awk '{ print $16 + $17 }' "/proc/$$/stat"; }
bench_load_start() {
  read -r LOAD_BUSY LOAD_STEAL LOAD_TOTAL < <(bench_machine_ticks)
  LOAD_OWN=$(bench_own_ticks)
}
bench_load_report() {
  local busy steal total own
  read -r busy steal total < <(bench_machine_ticks)
  own=$(bench_own_ticks)
  awk -v b=$((busy - LOAD_BUSY)) -v s=$((steal - LOAD_STEAL)) -v t=$((total - LOAD_TOTAL)) -v o=$((own - LOAD_OWN)) -v n="$(nproc)" 'BEGIN {
    if (t <= 0) exit
    printf "other load during the runs: %.0f%% of the %d CPUs busy outside this script, %.0f%% stolen by the hypervisor\n",
           100 * (b - o > 0 ? b - o : 0) / t, n, 100 * s / t }'
}
