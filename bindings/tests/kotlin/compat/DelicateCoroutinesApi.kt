// uniffi's generated Kotlin opts in to this marker of kotlinx-coroutines 1.5+. The only
// kotlinx-coroutines this machine can install is Debian's 1.0.1, which lacks it: this file
// declares it so the generated code compiles against 1.0.1 in the tests and the demo. An
// Android app depends on a current kotlinx-coroutines and must not include this file.

package kotlinx.coroutines

@Retention(AnnotationRetention.BINARY)
annotation class DelicateCoroutinesApi
