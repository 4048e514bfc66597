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

/**
 * Why a session died. Delivered once through II2cSessionCallback.onSessionLost.
 *
 * Later versions may add reasons. A client must treat a value it does not know as "the session
 * is lost": it is, whatever the reason, and every call on it fails from then on.
 */
@VintfStability
@Backing(type="int")
enum LossReason {
    /** The adapter was removed (module unplugged, driver unbound). */
    REMOVED = 1,
    /** An administrator revoked every session on the bus (e.g. before rmmod). */
    REVOKED = 2,
    /** The service is shutting down. */
    SHUTDOWN = 3,
    /** The access-control policy was reloaded and no longer allows this session. */
    POLICY_CHANGED = 4,
}
