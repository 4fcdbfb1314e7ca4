# Sourced by the Kotlin scripts: installs, when missing, the Kotlin compiler (the npm
# package kotlin-compiler, a full JetBrains distribution; Debian's kotlin is too old for
# uniffi's output) into .tools/, and JNA and kotlinx-coroutines from Debian; then sets
# KOTLINC, KOTLIN_LIB, JNA, COROUTINES (and COROUTINES_SHIM, see below).
KOTLIN_VERSION=2.4.20
tools="$PWD/.tools/kotlin"
if [ ! -x "$tools/node_modules/kotlin-compiler/bin/kotlinc" ]; then
  echo "installing kotlin-compiler@$KOTLIN_VERSION (npm)" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent "kotlin-compiler@$KOTLIN_VERSION" >&2
fi
if [ ! -f /usr/share/java/jna.jar ]; then
  echo "installing libjna-java (apt)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && apt-get install -y -qq libjna-java >&2
  else sudo apt-get update -qq >&2 && sudo apt-get install -y -qq libjna-java >&2; fi
fi
if [ ! -f /usr/share/java/kotlinx-coroutines-core.jar ] || [ ! -f /usr/share/java/atomicfu.jar ]; then
  # atomicfu: kotlinx-coroutines needs it at run time; Debian's package does not pull it in.
  echo "installing libkotlinx-coroutines-java libkotlinx-atomicfu-java (apt)" >&2
  pkgs="libkotlinx-coroutines-java libkotlinx-atomicfu-java"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && apt-get install -y -qq $pkgs >&2
  else sudo apt-get update -qq >&2 && sudo apt-get install -y -qq $pkgs >&2; fi
fi
KOTLINC="$tools/node_modules/kotlin-compiler/bin/kotlinc"
KOTLIN_LIB="$tools/node_modules/kotlin-compiler/lib"
JNA=/usr/share/java/jna.jar
# uniffi's suspend functions need kotlinx-coroutines; Debian's (the only one reachable here)
# is 1.0.1, which lacks the DelicateCoroutinesApi marker the generated code opts in to:
# the shim declares it (an Android app uses its own, current kotlinx-coroutines instead).
COROUTINES=/usr/share/java/kotlinx-coroutines-core.jar:/usr/share/java/atomicfu.jar
COROUTINES_SHIM="$PWD/bindings/tests/kotlin/compat/DelicateCoroutinesApi.kt"
export KOTLINC KOTLIN_LIB JNA COROUTINES COROUTINES_SHIM
