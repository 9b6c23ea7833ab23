package org.slf4j.impl;

import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.helpers.NOPLogger;
import org.slf4j.spi.LoggerFactoryBinder;
import sigharness.javaadapter.SigningLog;

/**
 * The slf4j 1.7 binding of the adapter: every logger is silent except the SDK's SigV4 request signer,
 * whose debug lines are recorded (see {@link SigningLog}). Recording only; nothing is changed.
 */
public final class StaticLoggerBinder implements LoggerFactoryBinder {
    /** Read by slf4j-api 1.7 to check compatibility. */
    public static String REQUESTED_API_VERSION = "1.6.99";

    private static final StaticLoggerBinder SINGLETON = new StaticLoggerBinder();
    private static final Logger SIGNER = new RecordingLogger(SigningLog.SIGNER_LOGGER);
    private final ILoggerFactory factory = name -> SigningLog.SIGNER_LOGGER.equals(name) ? SIGNER : NOPLogger.NOP_LOGGER;

    private StaticLoggerBinder() {
    }

    public static StaticLoggerBinder getSingleton() {
        return SINGLETON;
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public String getLoggerFactoryClassStr() {
        return StaticLoggerBinder.class.getName();
    }
}
