package dev.mirrord.jvm.e2e.lab;

import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * JUnit 5 glue for {@link NetnsLab}: {@code @ExtendWith(NetnsLabExtension.class)} on a test class
 *
 * <ul>
 *   <li>disables the class, with {@link Privileges#reason()}, when the lab cannot run here;
 *   <li>injects one {@link NetnsLab} per test class into test method parameters (created lazily, closed after all);
 *       a class annotated {@link WithDatabases @WithDatabases} gets it with {@link NetnsLab.Option#DATABASES};
 *   <li>marks that lab failed when a test fails, so {@code MIRRORD_E2E_PRESERVE_FAILED=1} keeps it for debugging.
 * </ul>
 */
public final class NetnsLabExtension implements ExecutionCondition, ParameterResolver, TestWatcher, AfterAllCallback {
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(NetnsLabExtension.class);

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    return Privileges.canManageNetns()
        ? ConditionEvaluationResult.enabled("netns lab available")
        : ConditionEvaluationResult.disabled("netns lab unavailable: " + Privileges.reason());
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == NetnsLab.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    boolean databases = extensionContext.getRequiredTestClass().isAnnotationPresent(WithDatabases.class);
    return classStore(extensionContext).getOrComputeIfAbsent(NetnsLab.class,
        k -> databases ? NetnsLab.create(NetnsLab.Option.DATABASES) : NetnsLab.create(), NetnsLab.class);
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    lab(context).ifPresent(NetnsLab::markFailed);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    lab(context).ifPresent(NetnsLab::close);
  }

  private static Optional<NetnsLab> lab(ExtensionContext context) {
    return Optional.ofNullable(classStore(context).get(NetnsLab.class, NetnsLab.class));
  }

  private static ExtensionContext.Store classStore(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c.getStore(NAMESPACE);
  }
}
