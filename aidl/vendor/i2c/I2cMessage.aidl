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
 * One message of a combined transfer (I2C_RDWR semantics: all messages of one transfer are
 * joined by repeated starts and end with a single STOP). The address is the session's.
 */
@VintfStability
parcelable I2cMessage {
    /** True for a read of readLength bytes; false for a write of writeData. */
    boolean read;
    /** Bytes to read (at least 1); ignored for writes. */
    int readLength;
    /** Bytes to write (at least 1); must be empty for reads. */
    byte[] writeData;
}
