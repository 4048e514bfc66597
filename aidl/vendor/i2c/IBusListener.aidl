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

/** Hot-plug notifications. Oneway: a slow listener never delays the service. */
@VintfStability
oneway interface IBusListener {
    /** A bus appeared (a new generation). Implemented by the client; errors: none (oneway). */
    void onBusAdded(in BusInfo bus);
    /** A bus went away; its sessions are dead. Implemented by the client; errors: none (oneway). */
    void onBusRemoved(in BusInfo bus);
}
