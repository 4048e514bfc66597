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

import vendor.i2c.ServiceStatus;

/**
 * Administration of the I2C HAL: instance "vendor.i2c.II2cAdmin/default", separate from the
 * app-facing II2cManager so that SELinux can grant it apart. Every call from a caller other
 * than root or system (uid % 100000 of 0 or 1000) fails with PERMISSION_DENIED.
 */
@VintfStability
interface II2cAdmin {
    /**
     * Administrative release: kills every session on the bus with LossReason.REVOKED and closes
     * the service's fd, so a prepared removal (rmmod, unbind) can proceed. The bus stays listed;
     * new sessions may be opened on it. Returns the number of sessions revoked.
     * Errors: NO_SUCH_BUS; PERMISSION_DENIED.
     */
    int revokeBus(@utf8InCpp String bus);

    /**
     * Re-reads the access-control policy file (as SIGHUP does). Sessions the new policy no
     * longer allows die with LossReason.POLICY_CHANGED, once each; nothing else changes.
     * Returns how many sessions ended. An invalid file is refused and the policy in force
     * stays.
     * Errors: INVALID_ARGUMENT (the file is invalid; the message names the line);
     * NOT_SUPPORTED (the service runs on a built-in policy, not a file); PERMISSION_DENIED.
     */
    int reloadPolicy();

    /** Buses, sessions with their owners, counters and recent removals. Errors: PERMISSION_DENIED. */
    ServiceStatus getStatus();
}
