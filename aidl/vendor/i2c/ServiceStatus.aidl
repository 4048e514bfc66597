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
import vendor.i2c.Counter;
import vendor.i2c.RemovalRecord;
import vendor.i2c.SessionStatus;

/** A snapshot of the service for administrators (II2cAdmin.getStatus). */
@VintfStability
parcelable ServiceStatus {
    /** How long the service has been running. */
    long uptimeMillis;
    /** The live buses, by bus number. */
    BusInfo[] buses;
    /** Every session that exists, live or dead but not yet closed by its owner. */
    SessionStatus[] sessions;
    /** Registered bus listeners. */
    int busListeners;
    /** What the service did and what failed, e.g. "transfers", "errors.ADDRESS_NACK". */
    Counter[] counters;
    /** The most recent removals (at most 16), newest last, with their measured latency. */
    RemovalRecord[] recentRemovals;
}
