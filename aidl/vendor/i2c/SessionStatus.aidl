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

import vendor.i2c.LossReason;

/** One session, as II2cAdmin.getStatus reports it. */
@VintfStability
parcelable SessionStatus {
    /** Being opened: the bus and the address are being claimed. */
    const int STATE_OPENING = 0;
    /** Usable. */
    const int STATE_LIVE = 1;
    /** Dead (lossReason says why); its owner has not closed it yet. */
    const int STATE_DEAD = 2;

    /** The service's id for the session, unique while the service runs. */
    long sessionId;
    /** The owner: binder calling uid and pid at openSession. */
    int uid;
    int pid;
    int busNumber;
    @utf8InCpp String stableId;
    long generation;
    /** 7-bit, or 10-bit where flags has II2cManager.FLAG_TEN_BIT. */
    int address;
    /** The II2cManager.FLAG_* bits it was opened with. */
    int flags;
    long ageMillis;
    int state;
    /** Why it died; meaningful only in STATE_DEAD. */
    LossReason lossReason = LossReason.REMOVED;
}
