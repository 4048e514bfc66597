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

/** One I2C adapter as the service knows it. */
@VintfStability
parcelable BusInfo {
    /*
     * Bits of `functionality`: the kernel's I2C_FUNC_* values (include/uapi/linux/i2c.h), so
     * that apps never hard-code them. An operation the adapter lacks fails with NOT_SUPPORTED.
     */
    /** Plain I2C messages: II2cSession.transfer and writeRead. */
    const long FUNC_I2C = 0x00000001;
    /** 10-bit addresses: II2cManager.FLAG_TEN_BIT. */
    const long FUNC_10BIT_ADDR = 0x00000002;
    /** SMBus packet error checking: II2cManager.FLAG_PEC. */
    const long FUNC_SMBUS_PEC = 0x00000008;
    /** smbusBlockProcessCall. */
    const long FUNC_SMBUS_BLOCK_PROC_CALL = 0x00008000;
    /** smbusQuick. */
    const long FUNC_SMBUS_QUICK = 0x00010000;
    /** smbusReadByte. */
    const long FUNC_SMBUS_READ_BYTE = 0x00020000;
    /** smbusWriteByte. */
    const long FUNC_SMBUS_WRITE_BYTE = 0x00040000;
    /** smbusReadByteData. */
    const long FUNC_SMBUS_READ_BYTE_DATA = 0x00080000;
    /** smbusWriteByteData. */
    const long FUNC_SMBUS_WRITE_BYTE_DATA = 0x00100000;
    /** smbusReadWordData. */
    const long FUNC_SMBUS_READ_WORD_DATA = 0x00200000;
    /** smbusWriteWordData. */
    const long FUNC_SMBUS_WRITE_WORD_DATA = 0x00400000;
    /** smbusProcessCall. */
    const long FUNC_SMBUS_PROC_CALL = 0x00800000;
    /** smbusReadBlockData. */
    const long FUNC_SMBUS_READ_BLOCK_DATA = 0x01000000;
    /** smbusWriteBlockData. */
    const long FUNC_SMBUS_WRITE_BLOCK_DATA = 0x02000000;
    /** smbusReadI2cBlockData. */
    const long FUNC_SMBUS_READ_I2C_BLOCK = 0x04000000;
    /** smbusWriteI2cBlockData. */
    const long FUNC_SMBUS_WRITE_I2C_BLOCK = 0x08000000;

    /** The kernel bus number N of /dev/i2c-N. Numbers are reused: never identify a bus by it alone. */
    int busNumber;
    /** The adapter's name from sysfs, e.g. "SMBus I801 adapter at 0700". */
    @utf8InCpp String name;
    /**
     * Stable id from the sysfs topology: the adapter's parent device path (e.g.
     * "pci0000:00/0000:00:1f.3"), plus the adapter's name only where the parent has several
     * adapters or there is no parent ("virtual/smbus-stub-driver"), plus "/serial-<serial>" for
     * a USB bridge whose device reports a serial number (the module in its port, e.g.
     * ".../usb1/1-2/1-2:1.0/serial-A1B2C3"). Survives replug of the same module.
     */
    @utf8InCpp String stableId;
    /** Grows on every add of any adapter; a session belongs to exactly one generation. */
    long generation;
    /** The adapter's I2C_FUNCS mask: FUNC_* bits above (others the kernel may add too). */
    long functionality;
}
