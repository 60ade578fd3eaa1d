# Sourced by the scripts here: find_java prints a java binary of a JDK 21 or newer (as ./mvn21 finds one:
# $JAVA, then $JAVA_HOME, then the newest under /usr/lib/jvm, /opt/java and the one on the PATH), or
# nothing if there is none.
java_version() { # the feature version of the java binary $1, or nothing
  [ -x "$1" ] || return 0
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\)$/\1/p' | head -1
}
find_java() {
  local v best=0 pick="" d
  if [ -n "${JAVA:-}" ]; then
    v=$(java_version "$JAVA")
    [ -n "$v" ] && [ "$v" -ge 21 ] && { echo "$JAVA"; return; }
  fi
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(java_version "$JAVA_HOME/bin/java")
    [ -n "$v" ] && [ "$v" -ge 21 ] && { echo "$JAVA_HOME/bin/java"; return; }
  fi
  for d in /usr/lib/jvm/*/ /opt/java/*/ "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    d=${d%/}
    v=$(java_version "$d/bin/java" 2>/dev/null || true)
    if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$best" ]; then best=$v; pick=$d/bin/java; fi
  done
  echo "$pick"
}
