/** Test doubles and harness shared by the layer's tests: FakeAgent, session files, child JVMs. */
package dev.mirrord.jvm.layer.testing;
