package io.herd.cli;

/** A command line that cannot be run as given; the command prints the message and its usage, exit status 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) { super(message); }
}
