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

/** One adapter removal as the service handled it. */
@VintfStability
parcelable RemovalRecord {
    int busNumber;
    @utf8InCpp String stableId;
    long generation;
    /** From the removal event to the service's fd on the bus being closed. */
    long latencyMicros;
    /** Sessions that died with it. */
    int sessionsLost;
    /** How long ago it happened. */
    long ageMillis;
    /**
     * From the removal event to the last of its own session-lost callbacks the service began
     * to hand to the binder transport (oneway: not its receipt); -1 while none was.
     */
    long lastCallbackMicros = -1;
    /** The removal event's CLOCK_MONOTONIC time in nanoseconds, to line it up with clients. */
    long eventMonotonicNanos;
}
