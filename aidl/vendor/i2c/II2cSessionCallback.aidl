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

/** Told once when the session dies. Oneway: a slow client never delays the service. */
@VintfStability
oneway interface II2cSessionCallback {
    /**
     * The session is dead; reason says why (treat a value you do not know as lost all the same)
     * and message says what happened. Implemented by the client; errors: none (oneway).
     */
    void onSessionLost(in LossReason reason, @utf8InCpp String message);
}
