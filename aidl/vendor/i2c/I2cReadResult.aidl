package vendor.i2c;

/** The bytes one read message returned (AIDL has no byte[][]). */
@VintfStability
parcelable I2cReadResult {
    byte[] data;
}
