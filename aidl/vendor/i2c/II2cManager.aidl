package vendor.i2c;

import vendor.i2c.BusInfo;
import vendor.i2c.IBusListener;
import vendor.i2c.II2cSession;
import vendor.i2c.II2cSessionCallback;

/**
 * Entry point of the I2C HAL: instance "vendor.i2c.II2cManager/default". The service is the only
 * holder of /dev/i2c-N; clients hold sessions, which die (with a callback) when the bus goes away.
 */
@VintfStability
interface II2cManager {
    /** openSession flag: no other session may use this address on this bus while it lives. */
    const int FLAG_EXCLUSIVE = 1;

    /** The live buses, by bus number. */
    BusInfo[] listBuses();

    /**
     * Opens a session on a 7-bit address (0x08..0x77).
     * bus: a bus number ("3") or a stable id. generation: 0 for the bus's current generation,
     * or the generation the caller saw in BusInfo; a different one fails with NO_SUCH_BUS, so a
     * caller never lands on a different adapter that reused the number. flags: FLAG_EXCLUSIVE or 0.
     * callback: told once if the session dies; the session is also reclaimed if the callback's
     * process dies.
     */
    II2cSession openSession(@utf8InCpp String bus, long generation, int address, int flags,
            II2cSessionCallback callback);

    void registerBusListener(IBusListener listener);
    void unregisterBusListener(IBusListener listener);

    /**
     * Administrative release (root/system only): kills every session on the bus with
     * LossReason.REVOKED and closes the service's fds, so a prepared removal (rmmod) can proceed.
     * Returns the number of sessions revoked.
     */
    int revokeBus(@utf8InCpp String bus);
}
