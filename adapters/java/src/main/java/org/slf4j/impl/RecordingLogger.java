package org.slf4j.impl;

import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.MarkerIgnoringBase;
import org.slf4j.helpers.MessageFormatter;
import sigharness.javaadapter.SigningLog;

/** A logger that hands DEBUG messages to {@link SigningLog} while a signing call is recorded; other levels are off. */
final class RecordingLogger extends MarkerIgnoringBase {
    private static final long serialVersionUID = 1L;

    RecordingLogger(String name) {
        this.name = name;
    }

    @Override public boolean isTraceEnabled() { return false; }
    @Override public void trace(String msg) { }
    @Override public void trace(String format, Object arg) { }
    @Override public void trace(String format, Object a1, Object a2) { }
    @Override public void trace(String format, Object... args) { }
    @Override public void trace(String msg, Throwable t) { }

    @Override public boolean isDebugEnabled() { return SigningLog.isRecording(); }
    @Override public void debug(String msg) { SigningLog.record(msg); }
    @Override public void debug(String format, Object arg) { record(MessageFormatter.format(format, arg)); }
    @Override public void debug(String format, Object a1, Object a2) { record(MessageFormatter.format(format, a1, a2)); }
    @Override public void debug(String format, Object... args) { record(MessageFormatter.arrayFormat(format, args)); }
    @Override public void debug(String msg, Throwable t) { SigningLog.record(msg); }

    @Override public boolean isInfoEnabled() { return false; }
    @Override public void info(String msg) { }
    @Override public void info(String format, Object arg) { }
    @Override public void info(String format, Object a1, Object a2) { }
    @Override public void info(String format, Object... args) { }
    @Override public void info(String msg, Throwable t) { }

    @Override public boolean isWarnEnabled() { return false; }
    @Override public void warn(String msg) { }
    @Override public void warn(String format, Object arg) { }
    @Override public void warn(String format, Object a1, Object a2) { }
    @Override public void warn(String format, Object... args) { }
    @Override public void warn(String msg, Throwable t) { }

    @Override public boolean isErrorEnabled() { return false; }
    @Override public void error(String msg) { }
    @Override public void error(String format, Object arg) { }
    @Override public void error(String format, Object a1, Object a2) { }
    @Override public void error(String format, Object... args) { }
    @Override public void error(String msg, Throwable t) { }

    private static void record(FormattingTuple t) {
        SigningLog.record(t.getMessage());
    }
}
