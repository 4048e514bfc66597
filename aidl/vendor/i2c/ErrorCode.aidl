/*
 * Service-specific error codes of vendor.i2c. Every failed call carries one of these as its
 * service-specific error (ServiceSpecificException in Java, EX_SERVICE_SPECIFIC in NDK/Rust)
 * together with a human-readable message.
 */
package vendor.i2c;

@VintfStability
@Backing(type="int")
enum ErrorCode {
    /** The session's bus was removed or revoked; the session is dead for good. Drop it. */
    BUS_GONE = 1,
    /** No live bus matches the given bus number or stable id (or the requested generation). */
    NO_SUCH_BUS = 2,
    /** The target address did not acknowledge (no device there). */
    ADDRESS_NACK = 3,
    /** The address is held exclusively by another session, or a kernel driver is bound to it. */
    ADDRESS_BUSY = 4,
    /** A malformed request: reserved address, empty message, value out of range, bad flags. */
    INVALID_ARGUMENT = 5,
    /** Too many messages (more than 42) or a message or block longer than the limit. */
    TOO_LARGE = 6,
    /** The adapter cannot perform this kind of transfer (see BusInfo.functionality). */
    NOT_SUPPORTED = 7,
    /** The adapter timed out (bus stuck, clock stretching too long). */
    TIMEOUT = 8,
    /** Any other failure of the transfer on the wire (arbitration lost, data NACK, ...). */
    IO_ERROR = 9,
    /** The caller may not do this (policy, or an administrative call from a non-system uid). */
    PERMISSION_DENIED = 10,
    /** The caller holds too many sessions or listeners. */
    QUOTA_EXCEEDED = 11,
    /** The session was closed by its owner; open a new one. */
    SESSION_CLOSED = 12,
}
