package vendor.i2c;

import vendor.i2c.BusInfo;
import vendor.i2c.I2cMessage;
import vendor.i2c.I2cReadResult;

/**
 * Access to one 7-bit address on one generation of one bus. Once the bus goes away the session
 * is dead for good: every call fails with ErrorCode.BUS_GONE (close() still succeeds), even if a
 * new adapter later gets the same bus number. Byte values are passed as int 0..255 and words as
 * int 0..65535 so that Java's signed byte is never in the way.
 */
@VintfStability
interface II2cSession {
    /** At most 42 messages, each 1..8192 bytes. Returns one result per read message, in order. */
    I2cReadResult[] transfer(in I2cMessage[] messages);
    /** Write then read with a repeated start. writeData may be empty (plain read). */
    byte[] writeRead(in byte[] writeData, int readLength);

    void smbusQuick(boolean readBit);
    int smbusReadByte();
    void smbusWriteByte(int value);
    int smbusReadByteData(int command);
    void smbusWriteByteData(int command, int value);
    int smbusReadWordData(int command);
    void smbusWriteWordData(int command, int value);
    /** SMBus block read: the device says how many bytes (1..32). */
    byte[] smbusReadBlockData(int command);
    void smbusWriteBlockData(int command, in byte[] data);
    /** I2C block read of length 1..32 bytes starting at command. */
    byte[] smbusReadI2cBlockData(int command, int length);
    void smbusWriteI2cBlockData(int command, in byte[] data);

    /** The bus (and its generation) this session is bound to. */
    BusInfo getBusInfo();
    /** The 7-bit address this session talks to. */
    int getAddress();
    /** Ends the session and frees its resources. Idempotent; also succeeds on a dead session. */
    void close();
}
