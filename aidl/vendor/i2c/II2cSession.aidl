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

import vendor.i2c.BusInfo;
import vendor.i2c.I2cMessage;
import vendor.i2c.TransferResult;

/**
 * Access to one address on one generation of one bus. Once the bus goes away the session is
 * dead for good: every call fails with BUS_GONE (close() still succeeds), even if a new adapter
 * later gets the same bus number. After close(), calls fail with SESSION_CLOSED. Byte values are
 * passed as int 0..255 and words as int 0..65535 so that Java's signed byte is never in the way.
 *
 * A session belongs to the uid that opened it: a call from any other uid (a session object
 * handed to another process) fails with PERMISSION_DENIED, close() included.
 *
 * Every operation below can fail with BUS_GONE, SESSION_CLOSED and PERMISSION_DENIED (the
 * policy does not allow its OP_* class), and those that reach the wire with ADDRESS_NACK,
 * ADDRESS_BUSY (a kernel driver was bound to the address since the session opened), TIMEOUT and
 * IO_ERROR; each lists the codes particular to it.
 */
@VintfStability
interface II2cSession {
    /** I2C_RDWR_IOCTL_MAX_MSGS: messages in one transfer. */
    const int MAX_MESSAGES = 42;
    /**
     * Bytes (read plus written) in one transfer or writeRead. At 100 kHz a byte takes 9 clocks
     * (90 us), so 4096 bytes plus an address byte for each of 42 messages take about 373 ms on
     * the wire (376 ms with 10-bit addresses): the longest legal call holds the bus, and delays
     * a removal, by less than 500 ms.
     */
    const int MAX_TRANSFER_BYTES = 4096;
    /** I2C_SMBUS_BLOCK_MAX: bytes in an SMBus or I2C block. */
    const int SMBUS_BLOCK_MAX = 32;

    /*
     * Operation classes, the bits of getAllowedOperations(). A call outside them fails with
     * PERMISSION_DENIED.
     */
    /** Reads without a register: smbusQuick(true), smbusReadByte, a one-message read. */
    const int OP_READ = 1;
    /** Writes without a register: smbusQuick(false), smbusWriteByte, a one-message write. */
    const int OP_WRITE = 2;
    /** Register access: the SMBus *Data, *Block* and process-call forms. */
    const int OP_REGISTER = 4;
    /** Combined transfers of several messages: transfer() with 2 or more, writeRead with both. */
    const int OP_RAW_TRANSFER = 8;

    /**
     * One combined transfer: up to MAX_MESSAGES messages, MAX_TRANSFER_BYTES bytes in all,
     * joined by repeated starts with one STOP at the end. Needs BusInfo.FUNC_I2C.
     * Errors: INVALID_ARGUMENT (no messages, an empty message, a read with write data, a
     * negative length); TOO_LARGE; NOT_SUPPORTED (SMBus-only adapter).
     */
    TransferResult transfer(in I2cMessage[] messages);

    /**
     * Write then read with a repeated start; returns the readLength bytes read. Either part
     * may be empty (a plain read or write), not both. Needs BusInfo.FUNC_I2C.
     * Errors: INVALID_ARGUMENT (both empty, negative readLength); TOO_LARGE; NOT_SUPPORTED;
     * IO_ERROR also if the adapter stopped before the read.
     */
    byte[] writeRead(in byte[] writeData, int readLength);

    /** Errors: NOT_SUPPORTED (no FUNC_SMBUS_QUICK). */
    void smbusQuick(boolean readBit);
    /** Errors: NOT_SUPPORTED; PEC_ERROR. */
    int smbusReadByte();
    /** Errors: INVALID_ARGUMENT (value outside 0..255); NOT_SUPPORTED. */
    void smbusWriteByte(int value);
    /** Errors: INVALID_ARGUMENT (command outside 0..255); NOT_SUPPORTED; PEC_ERROR. */
    int smbusReadByteData(int command);
    /** Errors: INVALID_ARGUMENT (command or value outside 0..255); NOT_SUPPORTED. */
    void smbusWriteByteData(int command, int value);
    /** Errors: INVALID_ARGUMENT (command outside 0..255); NOT_SUPPORTED; PEC_ERROR. */
    int smbusReadWordData(int command);
    /** Errors: INVALID_ARGUMENT (command outside 0..255, value outside 0..65535); NOT_SUPPORTED. */
    void smbusWriteWordData(int command, int value);
    /**
     * SMBus process call: writes a word, reads a word back. Needs FUNC_SMBUS_PROC_CALL.
     * Errors: INVALID_ARGUMENT (command outside 0..255, value outside 0..65535);
     * NOT_SUPPORTED; PEC_ERROR.
     */
    int smbusProcessCall(int command, int value);
    /**
     * SMBus block read: the device says how many bytes (1..SMBUS_BLOCK_MAX).
     * Errors: INVALID_ARGUMENT (command outside 0..255); NOT_SUPPORTED; PEC_ERROR.
     */
    byte[] smbusReadBlockData(int command);
    /**
     * Errors: INVALID_ARGUMENT (command outside 0..255, empty data); TOO_LARGE (more than
     * SMBUS_BLOCK_MAX bytes); NOT_SUPPORTED.
     */
    void smbusWriteBlockData(int command, in byte[] data);
    /**
     * SMBus block process call: writes a block, reads a block back (1..SMBUS_BLOCK_MAX bytes in
     * all, as the device says). Needs FUNC_SMBUS_BLOCK_PROC_CALL.
     * Errors: INVALID_ARGUMENT (command outside 0..255, empty data); TOO_LARGE;
     * NOT_SUPPORTED; PEC_ERROR.
     */
    byte[] smbusBlockProcessCall(int command, in byte[] data);
    /**
     * I2C block read of length 1..SMBUS_BLOCK_MAX bytes starting at command.
     * Errors: INVALID_ARGUMENT (command outside 0..255, length below 1); TOO_LARGE;
     * NOT_SUPPORTED.
     */
    byte[] smbusReadI2cBlockData(int command, int length);
    /**
     * Errors: INVALID_ARGUMENT (command outside 0..255, empty data); TOO_LARGE;
     * NOT_SUPPORTED.
     */
    void smbusWriteI2cBlockData(int command, in byte[] data);

    /**
     * The OP_* classes this session may use: what the policy grants and the adapter can do.
     * Errors: BUS_GONE; SESSION_CLOSED.
     */
    int getAllowedOperations();
    /** The bus (and its generation) this session is bound to. Errors: BUS_GONE; SESSION_CLOSED. */
    BusInfo getBusInfo();
    /** The address this session talks to. Errors: BUS_GONE; SESSION_CLOSED. */
    int getAddress();
    /**
     * Ends the session and frees its resources. Idempotent, also on a dead session.
     * Errors: PERMISSION_DENIED (not the session's owner).
     */
    void close();
}
