package dev.mirrord.jvm.e2e.lab;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a test class with {@code @ExtendWith(NetnsLabExtension.class)}: its lab is made with {@link
 * NetnsLab.Option#DATABASES} (PostgreSQL and Redis on the svc node), which the other classes do not pay for.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface WithDatabases {}
