/*
 * Copyright (C) 2026 The i2c-hal Authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *      http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package vendor.i2c;

/**
 * Service-specific error codes of vendor.i2c. Every failed call carries one of these as its
 * service-specific error (ServiceSpecificException in Java, EX_SERVICE_SPECIFIC in NDK and Rust)
 * together with a human-readable message.
 *
 * Later versions may add codes. A client must treat a value it does not know as "the call
 * failed" (and may show the message), never as success and never as a transport failure.
 */
@VintfStability
@Backing(type="int")
enum ErrorCode {
    /**
     * The session's bus was removed or revoked, or the service is shutting down; the session is
     * dead for good. Drop it, and open a new one on the bus when it is back.
     */
    BUS_GONE = 1,
    /** No live bus matches the given bus number or stable id (or the requested generation). */
    NO_SUCH_BUS = 2,
    /** The target address did not acknowledge (no device there). */
    ADDRESS_NACK = 3,
    /** The address is held exclusively by another session, or a kernel driver is bound to it. */
    ADDRESS_BUSY = 4,
    /** A malformed request: reserved address, empty message, value out of range, bad flags. */
    INVALID_ARGUMENT = 5,
    /**
     * More than II2cSession.MAX_MESSAGES messages, more than II2cSession.MAX_TRANSFER_BYTES
     * bytes in one call, or an SMBus block longer than II2cSession.SMBUS_BLOCK_MAX.
     */
    TOO_LARGE = 6,
    /** The adapter cannot do this (see BusInfo.functionality and its FUNC_* bits). */
    NOT_SUPPORTED = 7,
    /** The adapter timed out (bus stuck, clock stretching too long). */
    TIMEOUT = 8,
    /** Any other failure of the transfer on the wire (arbitration lost, data NACK, ...). */
    IO_ERROR = 9,
    /** The caller may not do this (policy, or an administrative call from a non-system uid). */
    PERMISSION_DENIED = 10,
    /** The caller holds too many sessions or listeners, or calls too often. */
    QUOTA_EXCEEDED = 11,
    /** The session was closed by its owner; open a new one. */
    SESSION_CLOSED = 12,
    /**
     * The SMBus packet error code did not match (a session opened with FLAG_PEC): the bytes
     * were corrupted on the wire. Nothing was returned; the operation may be retried.
     */
    PEC_ERROR = 13,
}
