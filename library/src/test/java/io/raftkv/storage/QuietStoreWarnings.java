package io.raftkv.storage;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps {@link FileStorage}'s warnings out of a test class's output (thousands of torn tails would each log
 * one), and puts the logger's level back after the class.
 */
final class QuietStoreWarnings implements BeforeAllCallback, AfterAllCallback {
    static final Logger LOG = Logger.getLogger(FileStorage.class.getName());
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(QuietStoreWarnings.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("level", java.util.Optional.ofNullable(LOG.getLevel()));
        LOG.setLevel(Level.SEVERE);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterAll(ExtensionContext context) {
        LOG.setLevel(((java.util.Optional<Level>) context.getStore(NS).get("level")).orElse(null));
    }
}
