package vendor.i2c;

/** One I2C adapter as the service knows it. */
@VintfStability
parcelable BusInfo {
    /** The kernel bus number N of /dev/i2c-N. Numbers are reused: never identify a bus by it alone. */
    int busNumber;
    /** The adapter's name from sysfs, e.g. "SMBus I801 adapter at 0700". */
    @utf8InCpp String name;
    /**
     * Stable id from the sysfs topology: the adapter's parent device path (e.g.
     * "pci0000:00/0000:00:1f.3"), plus the adapter's name only where the parent has several
     * adapters or there is no parent ("virtual/smbus-stub-driver"). Survives replug.
     */
    @utf8InCpp String stableId;
    /** Grows on every add of any adapter; a session belongs to exactly one generation. */
    long generation;
    /** The adapter's I2C_FUNCS mask (I2C_FUNC_I2C = 0x1, I2C_FUNC_SMBUS_* ...). */
    long functionality;
}
