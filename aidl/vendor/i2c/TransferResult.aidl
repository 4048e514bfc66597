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

import vendor.i2c.I2cReadResult;

/** What II2cSession.transfer did. */
@VintfStability
parcelable TransferResult {
    /**
     * How many of the messages the adapter reports as done: the kernel's i2c_transfer() result.
     * It equals the number of messages sent on success. Some adapters stop early without an
     * error; then it is smaller, and the messages after it were not put on the bus.
     */
    int messagesCompleted;
    /**
     * One entry per read message among the first messagesCompleted messages, in order, each
     * holding exactly the readLength bytes that message asked for. Reads that were not reached
     * have no entry.
     */
    I2cReadResult[] reads;
}
