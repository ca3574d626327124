/**
 * Tiny apps the ITs run in child JVMs with the shaded layer attached. They print {@code key=value}
 * lines on stdout, so a test can tell the app's output from anything else.
 */
package dev.mirrord.jvm.layer.testapp;
