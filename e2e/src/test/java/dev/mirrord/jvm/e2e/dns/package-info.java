/** End-to-end tests of remote DNS: an app in the root namespace resolving names in the lab pod's context. */
package dev.mirrord.jvm.e2e.dns;
