package vendor.i2c;

/**
 * One message of a combined transfer (I2C_RDWR semantics: all messages of one transfer are
 * joined by repeated starts and end with a single STOP). The address is the session's.
 */
@VintfStability
parcelable I2cMessage {
    /** True for a read of readLength bytes; false for a write of writeData. */
    boolean read;
    /** Bytes to read (1..8192); ignored for writes. */
    int readLength;
    /** Bytes to write (1..8192); must be empty for reads. */
    byte[] writeData;
}
