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
import vendor.i2c.IBusListener;
import vendor.i2c.II2cSession;
import vendor.i2c.II2cSessionCallback;

/**
 * Entry point of the I2C HAL for apps: instance "vendor.i2c.II2cManager/default". The service
 * is the only holder of /dev/i2c-N; clients hold sessions, which die (with a callback) when the
 * bus goes away. Administration is a separate interface, II2cAdmin.
 */
@VintfStability
interface II2cManager {
    /** openSession flag: no other session may use this address on this bus while it lives. */
    const int FLAG_EXCLUSIVE = 1;
    /**
     * openSession flag: the address is a 10-bit address (0x000..0x3ff). Only on adapters with
     * BusInfo.FUNC_10BIT_ADDR; NOT_SUPPORTED elsewhere.
     */
    const int FLAG_TEN_BIT = 2;
    /**
     * openSession flag: every SMBus operation of the session sends and checks a packet error
     * code; a mismatch fails with PEC_ERROR. Only on adapters with BusInfo.FUNC_SMBUS_PEC;
     * NOT_SUPPORTED elsewhere. Plain I2C transfers carry no PEC.
     */
    const int FLAG_PEC = 4;

    /** The live buses, by bus number. Errors: none. */
    BusInfo[] listBuses();

    /**
     * Opens a session on one address of one bus.
     *
     * bus: a bus number ("3") or a stable id. generation: 0 for the bus's current generation,
     * or the generation the caller saw in BusInfo; a different one fails with NO_SUCH_BUS, so a
     * caller never lands on a different adapter that reused the number. address: 7-bit
     * (0x08..0x77, reserved addresses excluded), or 10-bit (0x000..0x3ff) with FLAG_TEN_BIT.
     * flags: FLAG_* bits. callback: told once if the session dies. The session is reclaimed
     * once no process holds it any more: closed, released, or its holder's process died.
     *
     * Errors: NO_SUCH_BUS (no such bus, or not at that generation); BUS_GONE (the bus went
     * away while the session was being opened, or the service is shutting down);
     * INVALID_ARGUMENT (address out of range, unknown flags, negative generation, a callback
     * that is not a live remote binder); NOT_SUPPORTED (FLAG_TEN_BIT or FLAG_PEC on an adapter
     * without them); ADDRESS_BUSY (held exclusively by another session, or a kernel driver is
     * bound to the address); PERMISSION_DENIED (the policy does not allow it); QUOTA_EXCEEDED
     * (the caller holds too many sessions).
     */
    II2cSession openSession(@utf8InCpp String bus, long generation, int address, int flags,
            II2cSessionCallback callback);

    /**
     * Hot-plug notifications until unregisterBusListener or the listener's process dies.
     * Errors: INVALID_ARGUMENT (already registered, or not a live remote binder);
     * PERMISSION_DENIED; QUOTA_EXCEEDED (the caller has too many listeners).
     */
    void registerBusListener(IBusListener listener);

    /** Errors: INVALID_ARGUMENT (this listener is not registered). */
    void unregisterBusListener(IBusListener listener);
}
